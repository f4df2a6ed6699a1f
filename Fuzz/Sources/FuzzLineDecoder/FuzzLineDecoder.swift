import ClusterSyncCore
import FuzzDriver
import FuzzSupport
import NIOCore
import NIOEmbedded

/// One input is a byte stream and how it arrives: the first byte sets the line limit (1 to 128
/// bytes, so limits are hit often, or up to 8 KiB so whole protocol lines pass), the second how
/// the stream is cut into reads; the rest is the stream. It goes through `ByteToMessageHandler(LineFrameDecoder)` on an `EmbeddedChannel`, as
/// in the server, and the lines that come out must be exactly those of a plain reference split:
/// every "\n" ends a line, one "\r" before it is dropped, nothing longer than the limit passes,
/// and the first line that cannot fit is refused with `line-too-long` and ends the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard input.count >= 2 else { return 0 }
    let maxLineBytes = input[0] < 128 ? 1 + Int(input[0]) : 64 * Int(input[0] - 127)
    let cut = Int(input[1])
    let stream = Array(input.dropFirst(2))

    // Reference: the lines before the first one that cannot fit, and whether one cannot fit.
    var expected: [[UInt8]] = []
    var refused = false
    var lineStart = 0
    while lineStart < stream.count {
        guard let newline = stream[lineStart...].firstIndex(of: UInt8(ascii: "\n")) else {
            refused = stream.count - lineStart >= maxLineBytes
            break
        }
        if newline - lineStart + 1 > maxLineBytes {
            refused = true
            break
        }
        var line = Array(stream[lineStart..<newline])
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        expected.append(line)
        lineStart = newline + 1
    }

    let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: maxLineBytes)))
    var got: [[UInt8]] = []
    var thrown: ClusterSyncError?
    func drain() {
        while let line = try? channel.readInbound(as: ByteBuffer.self) {
            got.append(Array(line.readableBytesView))
        }
    }
    var offset = 0
    var read = 0
    while offset < stream.count, thrown == nil {
        // Reads of 1 to 32 bytes, or the whole rest when the cut byte says so.
        let size = cut == 255 ? stream.count : 1 + (cut &* 31 &+ read &* 7) % 32
        let end = min(stream.count, offset + size)
        do {
            try channel.writeInbound(ByteBuffer(bytes: stream[offset..<end]))
        } catch let error as ClusterSyncError {
            thrown = error
        } catch {
            fatalError("the decoder threw something other than a ClusterSyncError: \(error)")
        }
        drain()
        offset = end
        read += 1
    }
    if thrown == nil {
        do {
            _ = try channel.finish()
        } catch let error as ClusterSyncError {
            thrown = error
        } catch {
            fatalError("closing threw something other than a ClusterSyncError: \(error)")
        }
    }
    drain()
    if thrown != nil {
        // Nothing more comes out after the refusal, not even when the connection closes; and
        // closing breaks the channel's reference cycle.
        _ = try? channel.finish()
        require((try? channel.readInbound(as: ByteBuffer.self)) ?? nil == nil, "a line came out after line-too-long")
    }

    require(got == expected, "lines \(got) differ from the reference \(expected) (limit \(maxLineBytes))")
    require((thrown != nil) == refused, "refused: \(String(describing: thrown)); reference says \(refused) (limit \(maxLineBytes))")
    if let thrown { require(thrown.code == .lineTooLong, "unexpected error \(thrown.code)") }
    return 0
}

/// The program's entry point under SwiftPM (see FuzzDriver.c).
@_cdecl("FuzzLineDecoder_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    clustersync_fuzz_main(argc, argv)
}
