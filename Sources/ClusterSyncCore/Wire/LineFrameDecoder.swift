import Foundation
import NIOCore

/// Splits a byte stream into lines: each "\n" ends a line, and a "\r" just before it is dropped
/// too. Lines are passed on without their terminator; an empty line is passed on as an empty
/// buffer.
///
/// Never holds more than `maxLineBytes` of one line: once that many bytes are buffered without a
/// newline among them, the line cannot fit and decoding throws a `ClusterSyncError` with code
/// `lineTooLong` (after which `ByteToMessageHandler` passes no more input to this decoder).
/// Bytes after the last newline when the stream ends are not a line and are dropped.
public struct LineFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// The longest line accepted, terminator included (`WireLimits.maxLineBytes`).
    public let maxLineBytes: Int
    /// How far into the buffered bytes the newline search has already looked, so that bytes
    /// arriving one at a time are each scanned once.
    private var scanned = 0
    /// Whether each line is a copy rather than a slice of the bytes read. A slice keeps the
    /// buffer it was read into: TLS's buffer of decrypted bytes, which then cannot be written
    /// again in place and is copied whole (32 KB) at the next read, for as long as the
    /// connection lasts. The server copies (lines are small; connections many).
    public let copiesLines: Bool

    public init(maxLineBytes: Int, copiesLines: Bool = false) {
        precondition(maxLineBytes >= 1, "maxLineBytes must be at least 1")
        self.maxLineBytes = maxLineBytes
        self.copiesLines = copiesLines
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = try nextLine(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(line))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let line = try nextLine(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(line))
        }
        // An unterminated tail is not a line.
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        scanned = 0
        return .needMoreData
    }

    /// The next complete line, consumed from `buffer` without its terminator; nil if the buffer
    /// holds no newline yet. Throws once the buffered line cannot fit in `maxLineBytes`.
    mutating func nextLine(_ buffer: inout ByteBuffer) throws(ClusterSyncError) -> ByteBuffer? {
        // A line of maxLineBytes ends with its newline at offset maxLineBytes - 1: look no further.
        let limit = min(buffer.readableBytes, maxLineBytes)
        let newline: Int? = scanned < limit ? buffer.withUnsafeReadableBytes { Self.firstNewline(in: $0, from: scanned, to: limit) } : nil
        guard let newline else {
            scanned = limit
            if buffer.readableBytes >= maxLineBytes {
                throw ClusterSyncError(
                    .lineTooLong,
                    "a line may be at most \(maxLineBytes) bytes, newline included; this one is longer",
                    field: "maxLineBytes")
            }
            return nil
        }
        scanned = 0
        var length = newline
        if length > 0, buffer.getInteger(at: buffer.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            length -= 1
        }
        var line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: newline + 1 - length)
        if copiesLines {
            var copy = ByteBufferAllocator().buffer(capacity: length)
            copy.writeBuffer(&line)
            return copy
        }
        return line
    }

    /// `memchr`, which reads a word or a vector at a time: a page of a thousand changes arrives in
    /// 16 KB slices, and a byte-at-a-time search (`firstIndex(of:)`, about 0.8 GB/s here) was a
    /// visible share of a client's CPU while it received pages.
    private static func firstNewline(in bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int? {
        guard let base = bytes.baseAddress, let found = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }
}
