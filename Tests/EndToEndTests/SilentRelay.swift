import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP relay to the server that can drop its connections silently: after `cut()`
/// the connections it holds forward nothing more in either direction but stay open (no FIN, no
/// RST), as when a network path dies. New connections are relayed normally. With a
/// `clientAllowance`, each connection forwards only that many bytes of what the client sends,
/// then stops reading from it (the connection stays open), as a server that stopped reading.
final class SilentRelay: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let clientAllowance: Int
    private let listener: Int32
    private let lock = NSLock()
    /// Connections opened in a generation below this one are cut.
    private var liveGeneration = 0

    init(target: Int, clientAllowance: Int = .max) throws {
        self.target = target
        self.clientAllowance = clientAllowance
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if clientAllowance < .max {
            // A small receive buffer (the accepted sockets inherit it): a client's writes back
            // up after a few megabytes, not after the many the kernel would otherwise take.
            var size: Int32 = 64 * 1024
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Every connection open now stops forwarding, silently and for good.
    func cut() {
        lock.withLock { liveGeneration += 1 }
    }

    private func isCut(_ generation: Int) -> Bool { lock.withLock { generation < liveGeneration } }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                // The server is down: the client sees its connection closed, as it would directly.
                close(server)
                close(client)
                continue
            }
            if clientAllowance < .max {
                // Again on the accepted socket, in case the listener's setting is not inherited.
                var size: Int32 = 64 * 1024
                setsockopt(client, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            let generation = lock.withLock { liveGeneration }
            let pair = Pair(client, server)
            Thread.detachNewThread { [self] in pump(from: client, to: server, limit: clientAllowance, generation: generation, pair: pair) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, limit: .max, generation: generation, pair: pair) }
        }
    }

    /// The two sockets of one relayed connection, closed when both directions have ended.
    final class Pair: @unchecked Sendable {
        let a: Int32, b: Int32
        private let lock = NSLock()
        private var ended = 0
        init(_ a: Int32, _ b: Int32) { self.a = a; self.b = b }
        func end() {
            shutdown(a, Int32(SHUT_RDWR))
            shutdown(b, Int32(SHUT_RDWR))
            if lock.withLock({ ended += 1; return ended == 2 }) {
                close(a)
                close(b)
            }
        }
    }

    private func pump(from: Int32, to: Int32, limit: Int, generation: Int, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var forwarded = 0
        while true {
            // Past its allowance: read nothing more, for the rest of the test.
            if forwarded >= limit { while true { sleep(3600) } }
            let count = read(from, &buffer, min(buffer.count, limit - forwarded))
            guard count > 0 else { break }
            forwarded += count
            if isCut(generation) {
                // Hold the sockets open and forward nothing, for the rest of the test.
                while true { sleep(3600) }
            }
            var sent = 0
            while sent < count {
                let n = buffer[sent..<count].withUnsafeBytes { write(to, $0.baseAddress, count - sent) }
                guard n > 0 else { pair.end(); return }
                sent += n
            }
        }
        pair.end()
    }
}
