#!/usr/bin/env bash
# Certificates for ClusterSync from a Health Board's own CA, with plain openssl (Deploy/README.md,
# "Certificates"). Each command is a few openssl lines you can also type by hand; the end-to-end
# test Tests/EndToEndTests/HealthBoardPKIEndToEndTests.swift runs this very script and syncs
# through a real server with what it makes.
#
#   healthboard-pki.sh ca DIR "NAME"                  a CA (DIR/ca.pem, DIR/ca-key.pem): only for a board
#                                                     without one, or to try this out; otherwise use yours
#   healthboard-pki.sh server CA_DIR OUT_DIR HOST...  the server's key and certificate for these DNS names
#                                                     or IP addresses (OUT_DIR/server.pem, server-key.pem)
#   healthboard-pki.sh request OUT_DIR PRACTICE       at the practice: a key and a signing request
#                                                     (OUT_DIR/PRACTICE-key.pem stays there, PRACTICE.csr goes to the board)
#   healthboard-pki.sh sign CA_DIR CSR TENANT CLUSTER PRACTICE [DAYS]
#                                                     at the board: a client certificate for the request,
#                                                     naming the practice from these arguments (never from
#                                                     the request); prints its serial for revocation
#   healthboard-pki.sh practice CA_DIR OUT_DIR TENANT CLUSTER PRACTICE [DAYS]
#                                                     request + sign in one place (the key is made by the board)
#
# The CA's key is the root of trust for every practice of the board: keep it offline or in the
# board's HSM, and use its own tooling in place of `openssl x509 -req -CA ... -CAkey ...` below.
# Keys are ECDSA P-256; certificates SHA-256. DAYS defaults to 365 (practices), 825 (server).
set -euo pipefail
umask 077

die() { echo "healthboard-pki.sh: $*" >&2; exit 1; }

# A ClusterSync name part: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit
# (Sources/ClusterSyncTLS/CertificateIdentity.swift); anything else the server refuses.
check_name() {
    [[ $2 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "the $1 name \"$2\" cannot go in a certificate: use 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit"
}

# 128 random bits: unique without a serial file, positive, and what `credential revoke --serial` takes.
new_serial() { echo "0x$(openssl rand -hex 16)"; }

make_ca() {
    local dir=$1 name=$2
    mkdir -p "$dir"
    [ ! -e "$dir/ca.pem" ] || die "$dir/ca.pem exists: a CA is made once"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca-key.pem"
    openssl req -x509 -new -key "$dir/ca-key.pem" -sha256 -days 3650 -set_serial "$(new_serial)" \
        -subj "/O=$name/CN=$name ClusterSync CA" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$dir/ca.pem"
    chmod 644 "$dir/ca.pem"
    echo "wrote $dir/ca.pem (give it to practices and to the servers' tls.clientCA) and $dir/ca-key.pem (keep it offline)"
}

make_server() {
    local ca=$1 out=$2; shift 2
    [ $# -gt 0 ] || die "server: give at least one host name or IP address"
    local names=() host name
    for host in "$@"; do
        if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then names+=("IP:$host"); else names+=("DNS:$host"); fi
    done
    # Renewing in place keeps the host names and addresses of the certificate it replaces
    # (init's localhost and loopback addresses among them): practices that reach the node by one
    # of those would otherwise fail on the host name after a renewal. Remove server.pem first to
    # drop a name. (An IPv6 address given again in another spelling is listed twice: harmless.)
    if [ -f "$out/server.pem" ]; then
        while read -r name; do
            case $name in
                DNS:*) ;;
                "IP Address:"*) name=IP:${name#IP Address:} ;;
                *) continue ;;
            esac
            if [[ " ${names[*]} " != *" $name "* ]]; then names+=("$name"); fi
        done < <(openssl x509 -noout -ext subjectAltName -in "$out/server.pem" 2>/dev/null | tail -n +2 | tr ',' '\n' | sed 's/^ *//')
    fi
    # A failed signing leaves the pair in place and no half-made files beside it.
    # shellcheck disable=SC2064 # the paths are fixed now: `out` is local to this function
    trap "rm -f $(printf '%q ' "$out/server-key.pem.new" "$out/server.csr" "$out/server.pem.new")" EXIT
    local san
    san=$(IFS=,; echo "${names[*]}")
    mkdir -p "$out"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/server-key.pem.new"
    openssl req -new -key "$out/server-key.pem.new" -subj "/CN=$1" -out "$out/server.csr"
    openssl x509 -req -in "$out/server.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" -sha256 \
        -days "${DAYS:-825}" -set_serial "$(new_serial)" \
        -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
                      "extendedKeyUsage=serverAuth" "subjectAltName=$san") \
        -out "$out/server.pem.new"
    rm -f "$out/server.csr"
    # Both files change together, so a server (re)started in between never sees a mismatched pair
    # for long; it refuses one at start, naming the files.
    mv "$out/server-key.pem.new" "$out/server-key.pem"
    mv "$out/server.pem.new" "$out/server.pem"
    chmod 644 "$out/server.pem"
    echo "wrote $out/server.pem and $out/server-key.pem for $san (serial $(openssl x509 -noout -serial -in "$out/server.pem" | cut -d= -f2))"
}

make_request() {
    local out=$1 practice=$2
    check_name practice "$practice"
    mkdir -p "$out"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/$practice-key.pem"
    openssl req -new -key "$out/$practice-key.pem" -subj "/CN=$practice" -out "$out/$practice.csr"
    echo "wrote $out/$practice-key.pem (stays here) and $out/$practice.csr (send it to the Health Board)"
}

sign_request() {
    local ca=$1 csr=$2 tenant=$3 cluster=$4 practice=$5 days=${6:-365}
    check_name tenant "$tenant"; check_name cluster "$cluster"; check_name practice "$practice"
    openssl req -verify -noout -in "$csr" 2>/dev/null || die "$csr is not a signing request with a valid self-signature"
    local out="${csr%.csr}.pem"
    # The identity the server trusts is the URI; the subject says the same for people reading
    # the certificate. Both come from the arguments: a request cannot choose its practice.
    openssl x509 -req -in "$csr" -CA "$ca/ca.pem" -CAkey "$ca/ca-key.pem" -sha256 \
        -days "$days" -set_serial "$(new_serial)" \
        -subj "/O=$tenant/OU=$cluster/CN=$practice" \
        -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
                      "extendedKeyUsage=clientAuth" "subjectAltName=URI:clustersync://$tenant/$cluster/$practice") \
        -out "$out"
    chmod 644 "$out"
    local serial
    serial=$(openssl x509 -noout -serial -in "$out" | cut -d= -f2)
    echo "wrote $out for clustersync://$tenant/$cluster/$practice, serial $serial, valid $days days"
    echo "to revoke it: clustersyncd credential revoke --serial $serial --tenant $tenant"
}

command=${1:-}
[ -n "$command" ] || die "usage: healthboard-pki.sh ca|server|request|sign|practice ... (see the top of this file)"
shift
case $command in
    ca)       [ $# -eq 2 ] || die "usage: ca DIR NAME"; make_ca "$@" ;;
    server)   [ $# -ge 3 ] || die "usage: server CA_DIR OUT_DIR HOST..."; make_server "$@" ;;
    request)  [ $# -eq 2 ] || die "usage: request OUT_DIR PRACTICE"; make_request "$@" ;;
    sign)     [ $# -ge 5 ] || die "usage: sign CA_DIR CSR TENANT CLUSTER PRACTICE [DAYS]"; sign_request "$@" ;;
    practice)
        [ $# -ge 5 ] || die "usage: practice CA_DIR OUT_DIR TENANT CLUSTER PRACTICE [DAYS]"
        check_name tenant "$3"; check_name cluster "$4"; check_name practice "$5"
        make_request "$2" "$5"
        sign_request "$1" "$2/$5.csr" "$3" "$4" "$5" "${6:-365}"
        rm -f "$2/$5.csr"
        ;;
    *) die "unknown command \"$command\": ca, server, request, sign or practice" ;;
esac
