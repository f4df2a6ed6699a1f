@testable import ClusterSyncServer
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Testing

/// The connections' allocator: buffers keep their bytes whichever side of the threshold they
/// grow across, and a large one is mapped pages that cost nothing until written.
@Suite struct MappedLargeBuffersTests {
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test func aBufferKeepsItsBytesAsItGrowsAcrossTheThreshold() {
        var buffer = MappedLargeBuffers.allocator.buffer(capacity: 100)
        let bytes = Self.pattern(300_000)
        // From the heap, to mapped (at 16 KB), to a larger mapping, a few bytes at a time.
        for start in stride(from: 0, to: bytes.count, by: 7_001) {
            buffer.writeBytes(bytes[start..<min(start + 7_001, bytes.count)])
        }
        #expect(buffer.capacity >= bytes.count)
        #expect(buffer.getBytes(at: 0, length: bytes.count) == bytes)

        // A copy on write (a second reference, then a write) is a new block with the same bytes.
        let shared = buffer
        buffer.setBytes([0xFF], at: 0)
        #expect(shared.getBytes(at: 0, length: bytes.count) == bytes)
        #expect(buffer.getBytes(at: 1, length: bytes.count - 1) == Array(bytes.dropFirst()))
    }

    @Test func aSmallBlockResizedStaysWhole() throws {
        let block = try #require(MappedLargeBuffers.allocateBlock(1_000))
        block.copyMemory(from: Self.pattern(1_000), byteCount: 1_000)
        let grown = try #require(MappedLargeBuffers.reallocateBlock(block, oldSize: 1_000, newSize: 12_000))
        #expect(Array(UnsafeRawBufferPointer(start: grown, count: 1_000)) == Self.pattern(1_000))
        let mapped = try #require(MappedLargeBuffers.reallocateBlock(grown, oldSize: 12_000, newSize: 40_000))
        #expect(Array(UnsafeRawBufferPointer(start: mapped, count: 1_000)) == Self.pattern(1_000))
        let back = try #require(MappedLargeBuffers.reallocateBlock(mapped, oldSize: 40_000, newSize: 500))
        #expect(Array(UnsafeRawBufferPointer(start: back, count: 500)) == Self.pattern(500))
        MappedLargeBuffers.freeBlock(back)
    }

    #if canImport(Glibc)
    /// NIOSSL's ciphertext buffer is 16 KB (its read buffer 32 KB); a record of a slice under 4 KB
    /// (or a small request) writes its first page only.
    @Test func aLargeBlockCostsOnlyThePagesWritten() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = MappedLargeBuffers.threshold
        let pointer = try #require(MappedLargeBuffers.allocateBlock(size))
        defer { MappedLargeBuffers.freeBlock(pointer) }
        let block = pointer - MappedLargeBuffers.header
        #expect(Int(bitPattern: block) % page == 0, "a block at the threshold is a mapping of its own")
        pointer.copyMemory(from: Self.pattern(200), byteCount: 200)

        let pages = (size + MappedLargeBuffers.header + page - 1) / page
        var resident = [UInt8](repeating: 0, count: pages)
        #expect(mincore(block, pages * page, &resident) == 0)
        #expect(resident.filter { $0 & 1 == 1 }.count == 1, "resident pages: \(resident)")
    }
    #endif
}
