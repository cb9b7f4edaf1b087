// Arrival processes for the simulator: when each request arrives, which model it is for, and how
// many samples it carries. The same processes as the benchmark's load generator (bench/arrivals.ts):
// Poisson, Gamma inter-arrivals with a chosen CV, an on/off MMPP, evenly spaced, and trace replay;
// models are drawn from a weight vector (e.g. Zipf). Seeded: the same spec gives the same arrivals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace serval::sim {

struct SimArrival {
  int64_t t_ns = 0;
  uint32_t model = 0;
  uint32_t samples = 1;
};

struct ArrivalSpec {
  enum class Kind { kConstant, kPoisson, kGamma, kMmpp, kTrace };
  Kind kind = Kind::kPoisson;
  double rate = 100;           // mean requests per second (kTrace: ignored, see rate_scale)
  double cv = 1;               // kGamma: inter-arrival coefficient of variation
  double mmpp_peak = 8;        // kMmpp: "on" rate = peak x rate; "off" rate keeps the mean at rate
  double mmpp_on_s = 0.5;      // kMmpp: mean on period, s
  double mmpp_off_s = 3.5;     // kMmpp: mean off period, s
  std::vector<double> trace_s; // kTrace: arrival times in seconds, ascending
  double rate_scale = 1;       // kTrace: replay this many times faster
  double duration_s = 10;      // stop after this long (kTrace: also at the trace's end)
  uint64_t max_requests = 0;   // 0 = no limit
  std::vector<double> model_weights;  // empty = one model
  uint32_t samples = 1;        // samples per request
  uint64_t seed = 1;
};

// Parses "poisson", "constant", "gamma:CV", "mmpp[:peak=P,on=S,off=S]" into `spec` (kind and
// parameters only).
Status ParseArrivalKind(const std::string& text, ArrivalSpec* spec);

Status GenerateArrivals(const ArrivalSpec& spec, std::vector<SimArrival>* out);

}  // namespace serval::sim
