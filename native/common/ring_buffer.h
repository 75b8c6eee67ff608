// Single-producer single-consumer lock-free ring of trivially copyable elements.
// Preallocated once (capacity rounded up to a power of two); the producer never blocks and never
// allocates: a write that does not fit is rejected whole and counted as an overrun.
// Indices are free-running 64-bit counters; `index & mask` is the slot, so wrap-around is implicit.
// No OS headers: shared by every backend and by the native unit tests.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace loopcheck {

inline size_t RoundUpPowerOfTwo(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

template <typename T>
class SpscRing {
 public:
  explicit SpscRing(size_t min_capacity)
      : capacity_(RoundUpPowerOfTwo(min_capacity < 2 ? 2 : min_capacity)),
        mask_(capacity_ - 1),
        slots_(new T[capacity_]()) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const { return capacity_; }

  // Producer side: free slots (can only grow while the producer looks at it).
  size_t WriteAvailable() const {
    return capacity_ - static_cast<size_t>(head_.load(std::memory_order_relaxed) - tail_.load(std::memory_order_acquire));
  }

  // Producer: writes all n elements or none. Rejected writes add n to overrunElements().
  bool TryWriteAll(const T* data, size_t n) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    if (n > capacity_ - static_cast<size_t>(head - tail)) {
      overrun_elements_.fetch_add(n, std::memory_order_relaxed);
      overrun_writes_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const size_t start = static_cast<size_t>(head & mask_);
    const size_t first = n < capacity_ - start ? n : capacity_ - start;
    std::memcpy(slots_.get() + start, data, first * sizeof(T));
    if (n > first) std::memcpy(slots_.get(), data + first, (n - first) * sizeof(T));
    head_.store(head + n, std::memory_order_release);
    return true;
  }

  bool TryPush(const T& value) { return TryWriteAll(&value, 1); }

  // Consumer side: elements ready to read.
  size_t ReadAvailable() const {
    return static_cast<size_t>(head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_relaxed));
  }

  // Consumer: copies up to n elements without consuming them (offset elements past the read index).
  size_t Peek(T* out, size_t n, size_t offset = 0) const {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const size_t avail = static_cast<size_t>(head_.load(std::memory_order_acquire) - tail);
    if (offset >= avail) return 0;
    if (n > avail - offset) n = avail - offset;
    const size_t start = static_cast<size_t>((tail + offset) & mask_);
    const size_t first = n < capacity_ - start ? n : capacity_ - start;
    std::memcpy(out, slots_.get() + start, first * sizeof(T));
    if (n > first) std::memcpy(out + first, slots_.get(), (n - first) * sizeof(T));
    return n;
  }

  // Consumer: drops up to n elements.
  size_t Skip(size_t n) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const size_t avail = static_cast<size_t>(head_.load(std::memory_order_acquire) - tail);
    if (n > avail) n = avail;
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }

  size_t Read(T* out, size_t n) { return Skip(Peek(out, n)); }

  // Total elements / writes rejected because the ring was full (monotonic; any thread may read).
  uint64_t overrunElements() const { return overrun_elements_.load(std::memory_order_relaxed); }
  uint64_t overrunWrites() const { return overrun_writes_.load(std::memory_order_relaxed); }

 private:
  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the producer only
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the consumer only
  std::atomic<uint64_t> overrun_elements_{0};
  std::atomic<uint64_t> overrun_writes_{0};
};

}  // namespace loopcheck
