#include "arrival_process.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "sim_random.h"

namespace serval::sim {

namespace {

bool ParsePositive(const std::string& s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v > 0) || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

Status ParseArrivalKind(const std::string& text, ArrivalSpec* spec) {
  auto bad = [&](const std::string& why) { return Status(StatusCode::kInvalidArgument, why); };
  const size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (kind == "poisson" || kind == "constant") {
    if (!rest.empty()) return bad("arrival process '" + kind + "' takes no parameters");
    spec->kind = kind == "poisson" ? ArrivalSpec::Kind::kPoisson : ArrivalSpec::Kind::kConstant;
    return Status::Ok();
  }
  if (kind == "gamma") {
    spec->kind = ArrivalSpec::Kind::kGamma;
    if (!ParsePositive(rest, &spec->cv)) return bad("arrival process gamma needs a positive CV, e.g. gamma:4");
    return Status::Ok();
  }
  if (kind == "mmpp") {
    spec->kind = ArrivalSpec::Kind::kMmpp;
    size_t pos = 0;
    while (pos < rest.size()) {
      size_t comma = rest.find(',', pos);
      std::string part = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? rest.size() : comma + 1;
      size_t eq = part.find('=');
      if (eq == std::string::npos) return bad("mmpp parameters are key=value (peak, on, off), got '" + part + "'");
      std::string key = part.substr(0, eq);
      double v;
      if (!ParsePositive(part.substr(eq + 1), &v)) return bad("mmpp " + key + " must be a positive number");
      if (key == "peak") spec->mmpp_peak = v;
      else if (key == "on") spec->mmpp_on_s = v;
      else if (key == "off") spec->mmpp_off_s = v;
      else return bad("unknown mmpp parameter '" + key + "' (expected peak, on, off)");
    }
    if (spec->mmpp_peak < 1 || spec->mmpp_peak * spec->mmpp_on_s > spec->mmpp_on_s + spec->mmpp_off_s + 1e-9) {
      return bad("mmpp peak must be >= 1 and peak*on <= on+off");
    }
    return Status::Ok();
  }
  return bad("unknown arrival process '" + text + "' (expected constant, poisson, gamma:CV, mmpp[:peak=P,on=S,off=S])");
}

Status GenerateArrivals(const ArrivalSpec& spec, std::vector<SimArrival>* out) {
  out->clear();
  if (spec.kind != ArrivalSpec::Kind::kTrace && !(spec.rate > 0)) {
    return Status(StatusCode::kInvalidArgument, "arrival rate must be positive");
  }
  if (spec.kind == ArrivalSpec::Kind::kTrace && !(spec.rate_scale > 0)) {
    return Status(StatusCode::kInvalidArgument, "trace rate scale must be positive");
  }
  SimRandom times = SimRandom::Fork(spec.seed, 1);
  SimRandom models = SimRandom::Fork(spec.seed, 2);
  std::vector<double> cumulative;
  double total = 0;
  for (double w : spec.model_weights) cumulative.push_back(total += std::max(0.0, w));
  auto pick_model = [&]() -> uint32_t {
    if (cumulative.size() <= 1 || !(total > 0)) return 0;
    const double x = models.Uniform() * total;
    return uint32_t(std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin());
  };
  const double end_s = spec.duration_s;
  const uint64_t limit = spec.max_requests ? spec.max_requests : UINT64_MAX;
  auto push = [&](double t_s) {
    SimArrival a;
    a.t_ns = int64_t(std::llround(t_s * 1e9));
    a.model = std::min<uint32_t>(pick_model(), cumulative.empty() ? 0 : uint32_t(cumulative.size() - 1));
    a.samples = std::max<uint32_t>(1, spec.samples);
    out->push_back(a);
  };

  double t = 0;
  switch (spec.kind) {
    case ArrivalSpec::Kind::kConstant:
      for (; t < end_s && out->size() < limit; t += 1.0 / spec.rate) push(t);
      break;
    case ArrivalSpec::Kind::kPoisson:
      while ((t += times.Exponential(spec.rate)) < end_s && out->size() < limit) push(t);
      break;
    case ArrivalSpec::Kind::kGamma: {
      const double shape = 1.0 / (spec.cv * spec.cv);
      const double scale = 1.0 / (spec.rate * shape);
      while ((t += times.Gamma(shape, scale)) < end_s && out->size() < limit) push(t);
      break;
    }
    case ArrivalSpec::Kind::kMmpp: {
      const double on_rate = spec.mmpp_peak * spec.rate;
      const double cycle = spec.mmpp_on_s + spec.mmpp_off_s;
      const double off_rate = std::max(0.0, (spec.rate * cycle - on_rate * spec.mmpp_on_s) / spec.mmpp_off_s);
      bool on = times.Uniform() < spec.mmpp_on_s / cycle;
      double state_end = times.Exponential(1.0 / (on ? spec.mmpp_on_s : spec.mmpp_off_s));
      while (t < end_s && out->size() < limit) {
        const double rate = on ? on_rate : off_rate;
        const double next = rate > 0 ? t + times.Exponential(rate) : INFINITY;
        if (next <= state_end) {
          t = next;
          if (t < end_s) push(t);
          continue;
        }
        t = state_end;
        on = !on;
        state_end = t + times.Exponential(1.0 / (on ? spec.mmpp_on_s : spec.mmpp_off_s));
      }
      break;
    }
    case ArrivalSpec::Kind::kTrace: {
      if (spec.trace_s.empty()) return Status(StatusCode::kInvalidArgument, "trace replay needs arrival times");
      const double t0 = spec.trace_s.front();
      double prev = t0;
      for (double s : spec.trace_s) {
        if (s < prev) return Status(StatusCode::kInvalidArgument, "trace arrival times must be ascending");
        prev = s;
        const double ts = (s - t0) / spec.rate_scale;
        if (ts >= end_s || out->size() >= limit) break;
        push(ts);
      }
      break;
    }
  }
  return Status::Ok();
}

}  // namespace serval::sim
