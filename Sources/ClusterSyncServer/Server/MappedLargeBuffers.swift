@_spi(CustomByteBufferAllocator) import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The allocator of a session's connection buffers: those of 16 KB and more are mapped pages of
/// their own, so the part of one never written costs no memory. NIOSSL gives every connection a
/// 32 KB buffer of decrypted bytes and a 16 KB buffer of ciphertext for its whole life (2.37 has
/// no setting for either), and a session's requests and the records it sends (slices of under
/// 4 KB: `SessionHandler.flushedSlice`) are mostly far smaller: mapped, only the pages they
/// reach are resident, where a heap block is resident wherever the heap had been written before.
/// With `LineFrameDecoder(copiesLines:)`, which keeps NIOSSL from copying its read buffer whole:
/// 4,000 sessions open in 409–420 MB against 430–455 MB in one trio of alternated runs, 413–454
/// against 427–446 in another (MEASUREMENTS.md, twelfth session), when only the read buffer was
/// mapped; mapping the ciphertext buffer too, with slices of 4 KB, took 4,000 settled sessions
/// from 295 to 246 MB (thirteenth session).
///
/// Every block carries a 16-byte header (its mapped length, 0 for one from `malloc`), so that a
/// free knows which it was; 16 keeps the bytes after it aligned as `malloc`'s are.
enum MappedLargeBuffers {
    /// The smallest buffer that is mapped rather than taken from the heap.
    static let threshold = 16 * 1024
    static let header = 16

    static let allocator = ByteBufferAllocator(
        allocate: { size in allocateBlock(size) },
        reallocate: { pointer, oldSize, newSize in reallocateBlock(pointer, oldSize: oldSize, newSize: newSize) },
        deallocate: { pointer in freeBlock(pointer) },
        copy: { destination, source, count in destination.copyMemory(from: source, byteCount: count) })

    static func allocateBlock(_ size: Int) -> UnsafeMutableRawPointer? {
        if size >= threshold {
            let length = size + header
            guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  mapped != MAP_FAILED else { return nil }
            mapped.storeBytes(of: length, as: Int.self)
            return mapped + header
        }
        guard let block = malloc(size + header) else { return nil }
        block.storeBytes(of: 0, as: Int.self)
        return block + header
    }

    static func reallocateBlock(_ pointer: UnsafeMutableRawPointer?, oldSize: Int, newSize: Int) -> UnsafeMutableRawPointer? {
        guard let pointer else { return allocateBlock(newSize) }
        let block = pointer - header
        if block.load(as: Int.self) == 0, newSize < threshold {
            return realloc(block, newSize + header).map { $0 + header }
        }
        guard let moved = allocateBlock(newSize) else { return nil }
        moved.copyMemory(from: pointer, byteCount: min(oldSize, newSize))
        freeBlock(pointer)
        return moved
    }

    static func freeBlock(_ pointer: UnsafeMutableRawPointer) {
        let block = pointer - header
        let mappedLength = block.load(as: Int.self)
        if mappedLength == 0 { free(block) } else { munmap(block, mappedLength) }
    }
}
