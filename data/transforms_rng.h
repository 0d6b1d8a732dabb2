// The random stream of one sample. Explicit, small and fully specified (no
// std:: distributions, whose output differs between standard libraries), so a
// sample's augmentation depends only on (seed, epoch, sample index) — never on
// which thread ran it or what ran before.
#pragma once

#include <cmath>
#include <cstdint>

namespace scenery::data {

// splitmix64: the standard seeding/mixing step (Steele et al. 2014).
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_)
      s = splitmix64(seed);
  }
  // The stream of sample `index` in `epoch` of a run seeded with `seed`.
  static Rng for_sample(uint64_t seed, uint64_t epoch, uint64_t index) {
    uint64_t st = seed;
    uint64_t a = splitmix64(st) ^ (epoch * 0xD1B54A32D192ED03ull);
    uint64_t b = splitmix64(a) ^ (index * 0x8CB92BA72F3D8DD7ull);
    return Rng(splitmix64(b));
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive); the modulo bias is < 2^-40 for
  // any range an image can have.
  int64_t randint(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(next() % span);
  }
  bool coin(double p = 0.5) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace scenery::data
