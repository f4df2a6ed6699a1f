import ClusterSyncCore
import FuzzDriver
import FuzzSupport
import NIOCore

/// One input is one line as a peer could send it (without its newline).
///
/// Whatever the bytes, decoding either gives a message or throws a `ClusterSyncError` whose
/// message stays short (it is sent back to the peer); a decoded message's canonical line decodes
/// to the same message and re-encodes to the same bytes, so what a server relays is what it read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let line = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    let message: WireMessage
    do {
        message = try WireCodec.decode(line)
    } catch {
        require(!error.message.isEmpty, "an error with no message")
        require(error.message.utf8.count <= 1024, "an error message of \(error.message.utf8.count) bytes echoes the input: \(error.message.prefix(200))")
        return 0
    }
    let text = WireCodec.encode(message)
    require(text.hasSuffix("\n") && !text.dropLast().contains("\n"), "the encoded line is not one line: \(text)")
    let again: WireMessage
    do {
        again = try WireCodec.decode(text.dropLast())
    } catch {
        fatalError("the canonical line \(text) does not decode: \(error.message)")
    }
    require(again == message, "the canonical line \(text) decodes to another message")
    require(WireCodec.encode(again) == text, "re-encoding \(text) changes its bytes")
    return 0
}

/// The program's entry point under SwiftPM (see FuzzDriver.c).
@_cdecl("FuzzWireCodec_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    clustersync_fuzz_main(argc, argv)
}
