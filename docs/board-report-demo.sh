#!/usr/bin/env bash
# Builds the demonstration cluster behind docs/board-report.png: a year of a cluster lead's
# registers, each step made on its own date with libfaketime (apt-get install faketime), so the
# report's "risks by band, month by month" has a history to show. Then writes the report.
# The lead's powers (closing and escalating risks) come from a cluster-lead credential, so the
# replica first syncs once with a server of its own, started on the same day.
# Usage: docs/board-report-demo.sh OUT_DIR [PORT]   (needs the debug build: swift build)
set -euo pipefail
out=${1:?output directory}
port=${2:-17443}
bin=$(cd "$(dirname "$0")/.." && pwd)/.build/debug
cs=${CLUSTERSYNC_BIN:-$bin/clustersync}
csd=${CLUSTERSYNCD_BIN:-$bin/clustersyncd}
rm -rf "$out" && mkdir -p "$out"
export CLUSTERSYNC_REPLICA="$out/lead.sqlite"
at() { local when=$1; shift; faketime "$when 10:00:00" "$cs" "$@"; }
server() { faketime "2026-04-02 09:00:00" "$csd" "$@" --data "$out/server"; }

at 2026-04-02 init --tenant bcuhb --cluster north-denbighshire --practice prestatyn --name "Dr Siân Evans, cluster lead"
faketime "2026-04-02 09:00:00" "$csd" serve --port "$port" --data "$out/server" > "$out/server.log" 2>&1 &
pid=$!
# faketime runs the server as its child: stop both.
stop() { pkill -P $pid 2>/dev/null || true; kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 50); do [ -s "$out/server/ca.pem" ] && grep -q "listening" "$out/server.log" && break; sleep 0.2; done
server tenant add bcuhb > /dev/null
server cluster add --tenant bcuhb north-denbighshire > /dev/null
server practice add --tenant bcuhb --cluster north-denbighshire prestatyn > /dev/null
server credential issue --tenant bcuhb --cluster north-denbighshire --practice prestatyn --role cluster-lead > "$out/lead.token"
at 2026-04-02 remote set "localhost:$port" --ca "$out/server/ca.pem" --token-file "$out/lead.token"
at 2026-04-02 sync > /dev/null
stop
at 2026-04-02 terms add title="GP Collaborative ToR" body=gp-collaborative date_agreed=2026-04-01 review_date=2027-04-01 \
  practices+=prestatyn practices+=rhyl practices+=meliden practices+=dyserth practices+=rhuddlan >/dev/null
at 2026-04-02 terms add title="Stakeholder board ToR" body=stakeholder-board date_agreed=2025-04-01 review_date=2026-10-01 >/dev/null
LOCUM=$(at 2026-04-08 risk add title="GP locum cover over winter and weekends" likelihood=3 consequence=4 category=workforce \
  owner="Cluster lead" review_date=2026-11-20 controls="Shared locum pool across three practices; rota held by the CDM" \
  gaps="No weekend cover agreed; pool depends on two locums" target_likelihood=2 target_consequence=3 treatment=treat \
  description="Winter demand and two partners retiring leave sessions uncovered, weekends especially.")
LEASE=$(at 2026-04-20 risk add title="Rhyl premises lease ends March 2027" likelihood=3 consequence=3 category=estates owner="Practice manager, Rhyl" review_date=2027-01-15)
at 2026-05-06 risk add title="Cluster data sharing agreement lapses" likelihood=2 consequence=2 category=information-governance owner="IG lead" review_date=2027-02-01 >/dev/null
PHARM=$(at 2026-05-20 risk add title="Community pharmacy minor ailments capacity" likelihood=3 consequence=2 category=service-delivery owner="Pharmacy lead" review_date=2026-12-10)
at 2026-06-10 risk add title="Optometry referral backlog" likelihood=4 consequence=3 category=service-delivery owner="Optometry lead" review_date=2026-09-30 >/dev/null
at 2026-06-24 risk add title="Third sector grant ends" likelihood=2 consequence=3 category=financial owner="Cluster development manager" review_date=2027-03-01 >/dev/null
DN=$(at 2026-07-08 risk add title="District nursing vacancies" likelihood=4 consequence=4 category=workforce owner="Community nursing lead" review_date=2026-12-01 \
  controls="Agency cover for two posts" escalation=pcpg)
at 2026-07-22 risk add title="Translation service contract" likelihood=1 consequence=3 category=partnership owner="Practice manager, Meliden" >/dev/null
at 2026-08-12 risk set $PHARM likelihood=2 >/dev/null
at 2026-09-02 risk set $LOCUM likelihood=4 consequence=5 escalation=health-board >/dev/null
at 2026-09-16 risk add title="Flu vaccine delivery slippage" likelihood=3 consequence=3 category=clinical owner="Medicines management" review_date=2026-11-01 >/dev/null
at 2026-10-07 risk set $LEASE status=closed lessons_learned="Lease extended to 2030 after Health Board estates review." >/dev/null
at 2026-10-21 risk add title="Winter respiratory surge" likelihood=4 consequence=4 category=clinical owner="Cluster lead" review_date=2026-12-15 escalation=cluster >/dev/null
at 2026-11-04 risk add title="Out-of-hours handover errors" likelihood=2 consequence=4 category=clinical owner="GP lead" review_date=2027-01-10 >/dev/null

A1=$(at 2026-09-03 action add title="Agree weekend locum rota with OOH" owner="Cluster development manager" due_date=2026-11-14 source=$LOCUM)
A2=$(at 2026-09-03 action add title="Bid for two salaried GP sessions" owner="Cluster lead" due_date=2026-12-05 source=$LOCUM)
at 2026-09-03 risk set $LOCUM linked_actions+=$A1 linked_actions+=$A2 >/dev/null
at 2026-10-01 action set $A2 status=in-progress >/dev/null
A3=$(at 2026-07-09 action add title="Recruit to two district nurse posts" owner="Community nursing lead" due_date=2026-10-31 source=$DN)
at 2026-07-09 risk set $DN linked_actions+=$A3 >/dev/null
at 2026-05-01 action add title="Publish cluster IMTP summary" owner="Cluster development manager" due_date=2026-06-30 status=complete >/dev/null
at 2026-06-01 action add title="Review optometry referral pathway" owner="Optometry lead" due_date=2027-02-28 >/dev/null
at 2026-06-01 action add title="Pharmacy minor ailments leaflet" owner="Pharmacy lead" due_date=2026-08-31 status=closed >/dev/null
at 2026-10-15 action add title="Flu clinic capacity check" owner="Medicines management" due_date=2026-12-10 >/dev/null
at 2026-11-02 action add title="Respiratory hub business case" owner="Cluster lead" due_date=2027-01-31 >/dev/null

for d in 2026-04-16 2026-07-16 2026-10-15; do
  M=$(at $d meeting add title="GP Collaborative" body=gp-collaborative date=$d status=held)
  at $d meeting attend $M "Dr Siân Evans" --practice prestatyn >/dev/null
  at $d meeting attend $M "Dr Gareth Jones" --practice rhyl >/dev/null
  [ $d != 2026-07-16 ] && at $d meeting attend $M "Dr Alys Hughes" --practice meliden >/dev/null
  [ $d = 2026-04-16 ] && at $d meeting attend $M "Dr Owain Price" --practice dyserth >/dev/null
  true
done
for d in 2027-01-21 2027-04-15 2027-07-15; do
  at 2026-11-02 meeting add title="GP Collaborative" body=gp-collaborative date=$d status=scheduled >/dev/null
done
at 2026-05-21 decision add title="Adopt the cluster IMTP 2026-29" date=2026-05-21 method=consensus outcome=agreed >/dev/null
P=$(at 2026-05-21 list create title="Cluster plan priorities" kind=priorities)
at 2026-05-21 list add $P "Same-day access for urgent care" >/dev/null
at 2026-05-21 list set $P 1 "measure=Urgent requests seen the same day, 95%" owner="Cluster lead" >/dev/null
at 2026-05-21 list add $P "Phlebotomy closer to home" >/dev/null
at 2026-05-21 list set $P 2 "measure=Median wait under 5 days" owner="Community nursing lead" >/dev/null
at 2026-05-21 list add $P "Recruit two salaried GPs" >/dev/null
at 2026-10-01 list set $P 3 done=yes >/dev/null
at 2026-05-21 plan add title="Cluster IMTP 2026-29" period_start=2026-04-01 period_end=2029-03-31 status=agreed priorities=$P >/dev/null
at 2026-07-16 declaration add member="Rhys Morgan" organisation="Morgan Pharmacy Ltd" nature=pecuniary \
  description="Director of a pharmacy bidding for the minor ailments pilot" date_declared=2026-07-16 >/dev/null
at 2026-07-16 decision add title="Fund the minor ailments pilot" date=2026-07-16 method=vote financial_implications=yes amount=12000 outcome=agreed >/dev/null
at 2026-09-17 decision add title="Shared phlebotomy clinic at Rhyl" date=2026-09-17 method=consensus outcome=deferred >/dev/null
at 2026-10-15 decision add title="Second care navigator post" date=2026-10-15 method=vote financial_implications=yes amount=28500 outcome=rejected >/dev/null
at 2026-11-19 decision add title="Winter resilience plan" date=2026-11-19 method=consensus outcome=agreed >/dev/null

at 2026-11-30 report --html "$out/board-report.html" --period 2026-27
