import ClusterSyncCore
import ClusterSyncServerTesting
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct LineFrameDecoderTests {
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func channel(max: Int) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: max)))
    }

    static func readAll(_ channel: EmbeddedChannel) throws -> [String] {
        var lines: [String] = []
        while var line = try channel.readInbound(as: ByteBuffer.self) {
            lines.append(line.readString(length: line.readableBytes)!)
        }
        return lines
    }

    static func lineTooLong(_ error: any Error) -> Bool {
        (error as? ClusterSyncError)?.code == .lineTooLong
    }

    @Test func theVerifierAgrees() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (Self.buffer("{\"type\":\"ping\"}\n"), [Self.buffer("{\"type\":\"ping\"}")]),
                (Self.buffer("{\"type\":\"bye\"}\r\n"), [Self.buffer("{\"type\":\"bye\"}")]),
                (Self.buffer("\n"), [Self.buffer("")]),
                (Self.buffer("\r\n"), [Self.buffer("")]),
                (Self.buffer("a\rb\n"), [Self.buffer("a\rb")]),
                (Self.buffer("one\ntwo\r\n\nthree\n"), [Self.buffer("one"), Self.buffer("two"), Self.buffer(""), Self.buffer("three")]),
                (Self.buffer("Siân — 😀\n"), [Self.buffer("Siân — 😀")]),
                // Exactly the limit (16 bytes), newline included.
                (Self.buffer("123456789012345\n"), [Self.buffer("123456789012345")]),
                (Self.buffer("12345678901234\r\n"), [Self.buffer("12345678901234")]),
            ],
            decoderFactory: { LineFrameDecoder(maxLineBytes: 16) })
    }

    @Test func theTranscriptsClientLinesSplitAsSent() throws {
        var pairs: [(ByteBuffer, [ByteBuffer])] = []
        for transcript in try WireVectors.all() {
            for entry in transcript.entries {
                switch entry {
                case .client(let text), .clientRaw(let text):
                    pairs.append((Self.buffer(text + "\n"), [Self.buffer(text)]))
                default:
                    continue
                }
            }
        }
        #expect(pairs.count > 40)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs, decoderFactory: { LineFrameDecoder(maxLineBytes: WireLimits.default.maxLineBytes) })
    }

    /// The server's lines are copies: none keeps the buffer it was read from (TLS's, which would
    /// otherwise be copied whole at the next read), and the content is the same as a slice's.
    @Test func copiedLinesShareNoStorageWithWhatWasRead() throws {
        for copies in [false, true] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: 64, copiesLines: copies)))
            var read = channel.allocator.buffer(capacity: 256)
            read.writeString("{\"type\":\"ping\"}\r\nsecond\n\ntail")
            let storage = read.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) ..< UInt(bitPattern: $0.baseAddress!) + 256 }
            try channel.writeInbound(read)
            var lines: [String] = []
            while var line = try channel.readInbound(as: ByteBuffer.self) {
                if line.readableBytes > 0 {
                    let inRead = line.withUnsafeReadableBytes { storage.contains(UInt(bitPattern: $0.baseAddress!)) }
                    #expect(inRead == !copies, "copiesLines: \(copies), line: \(String(buffer: line))")
                }
                lines.append(line.readString(length: line.readableBytes)!)
            }
            #expect(lines == ["{\"type\":\"ping\"}", "second", ""])
            _ = try channel.finish()
        }
    }

    @Test func aLineOneByteOverTheLimitIsRefused() throws {
        let channel = Self.channel(max: 16)
        try channel.writeInbound(Self.buffer("123456789012345\n"))
        #expect(try Self.readAll(channel) == ["123456789012345"])
        // 16 bytes without a newline: the line needs at least 17.
        #expect {
            try channel.writeInbound(Self.buffer("1234567890123456"))
        } throws: { error in
            guard let error = error as? ClusterSyncError else { return false }
            return error.code == .lineTooLong && error.message.contains("at most 16 bytes")
        }
        #expect(try Self.readAll(channel) == [])
        _ = try? channel.finish()
    }

    @Test func carriageReturnCountsTowardsTheLimit() throws {
        let channel = Self.channel(max: 16)
        #expect(throws: ClusterSyncError.self) { try channel.writeInbound(Self.buffer("123456789012345\r\n")) }
        _ = try? channel.finish()
    }

    /// Refuses as soon as the limit is reached, without waiting for the newline: a peer cannot
    /// make it buffer more than one line's worth.
    @Test func refusesBeforeTheNewlineArrives() throws {
        let channel = Self.channel(max: 1_000)
        for _ in 0..<99 {
            try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: 10))
        }
        #expect(throws: ClusterSyncError.self) {
            try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: 10))
        }
        // After the error, further bytes produce nothing (ByteToMessageHandler stops decoding).
        _ = try? channel.writeInbound(Self.buffer("{\"type\":\"ping\"}\n"))
        #expect(try Self.readAll(channel) == [])
        _ = try? channel.finish()
    }

    @Test func aLongLineWithinTheLimitArrivingInPiecesIsOneLine() throws {
        let channel = Self.channel(max: 100_000)
        let line = String(repeating: "abcdefghij", count: 9_000)
        var rest = Substring(line + "\r\n")
        while !rest.isEmpty {
            try channel.writeInbound(Self.buffer(String(rest.prefix(777))))
            rest = rest.dropFirst(777)
        }
        #expect(try Self.readAll(channel) == [line])
        #expect(try channel.finish().isClean)
    }

    @Test func linesAfterAFullLineAreNotCountedTogether() throws {
        // Two 10-byte lines in one read with a limit of 16: each fits on its own.
        let channel = Self.channel(max: 16)
        try channel.writeInbound(Self.buffer("123456789\n123456789\n12345"))
        try channel.writeInbound(Self.buffer("6789\n"))
        #expect(try Self.readAll(channel) == ["123456789", "123456789", "123456789"])
        #expect(try channel.finish().isClean)
    }

    @Test func anUnterminatedTailIsDroppedAtTheEnd() throws {
        let channel = Self.channel(max: 64)
        try channel.writeInbound(Self.buffer("{\"type\":\"ping\"}\n{\"type\":\"by"))
        #expect(try Self.readAll(channel) == ["{\"type\":\"ping\"}"])
        #expect(try channel.finish().isClean)
    }

    @Test func theDefaultLimitIsFourMebibytes() throws {
        let max = WireLimits.default.maxLineBytes
        #expect(max == 4 * 1024 * 1024)
        let channel = Self.channel(max: max)
        var fits = ByteBuffer(repeating: UInt8(ascii: "x"), count: max - 1)
        fits.writeString("\n")
        try channel.writeInbound(fits)
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == max - 1)
        #expect(throws: ClusterSyncError.self) {
            try channel.writeInbound(ByteBuffer(repeating: UInt8(ascii: "x"), count: max))
        }
        _ = try? channel.finish()
    }
}
