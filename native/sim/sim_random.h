// SimRandom: the simulator's seeded generator (xoshiro256**, seeded through splitmix64) and the
// distributions it draws from. The same seed gives the same numbers on every machine, which is what
// makes rollouts reproducible and lets every policy see the same arrivals (common random numbers).
#pragma once

#include <cmath>
#include <cstdint>

namespace serval::sim {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) s = SplitMix(x);
  }

  // An independent stream for `label` (e.g. an instance index), derived from `seed`.
  static SimRandom Fork(uint64_t seed, uint64_t label) {
    uint64_t x = seed ^ (0xD1B54A32D192ED03ull * (label + 1));
    return SimRandom(SplitMix(x));
  }

  uint64_t NextU64() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double Uniform() { return double(NextU64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1].
  double UniformOpen() { return double((NextU64() >> 11) + 1) * 0x1.0p-53; }
  double Exponential(double rate) { return -std::log(UniformOpen()) / rate; }
  double Normal() {
    return std::sqrt(-2.0 * std::log(UniformOpen())) * std::cos(6.283185307179586 * Uniform());
  }
  // Gamma(shape, scale): Marsaglia and Tsang; shape < 1 through the U^(1/shape) boost.
  double Gamma(double shape, double scale) {
    if (shape < 1) return Gamma(shape + 1, scale) * std::pow(UniformOpen(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x, v;
      do {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const double u = UniformOpen();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v * scale;
      if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v * scale;
    }
  }
  // Multiplicative noise with mean 1 and coefficient of variation `cv` (log-normal); 1 when cv is 0.
  double NoiseFactor(double cv) {
    if (!(cv > 0)) return 1.0;
    const double s2 = std::log1p(cv * cv);
    return std::exp(std::sqrt(s2) * Normal() - 0.5 * s2);
  }

 private:
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace serval::sim
