#include "behaviour_cloning.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "policy_features.h"
#include "sim_random.h"

namespace serval::sim {

namespace {

constexpr uint32_t kIn = kPolicyInputs, kH1 = kPolicyHidden1, kH2 = kPolicyHidden2;
// Offsets of each tensor in the flat parameter vector (see policy_network.h).
constexpr size_t kW1 = 0, kB1 = kW1 + kIn * kH1, kW2 = kB1 + kH1, kB2 = kW2 + kH1 * kH2, kW3 = kB2 + kH2,
                 kB3 = kW3 + kH2;

struct Activations {
  float z[kIn], a1[kH1], h1[kH1], a2[kH2], h2[kH2];
  float score;
};

void Forward(const float* p, const PolicyWeights& w, const float* x, Activations* a) {
  for (uint32_t i = 0; i < kIn; ++i) a->z[i] = (x[i] - w.feature_mean[i]) * w.feature_inv_std[i];
  for (uint32_t j = 0; j < kH1; ++j) a->a1[j] = p[kB1 + j];
  for (uint32_t i = 0; i < kIn; ++i) {
    const float zi = a->z[i];
    const float* row = p + kW1 + i * kH1;
    for (uint32_t j = 0; j < kH1; ++j) a->a1[j] += zi * row[j];
  }
  for (uint32_t j = 0; j < kH1; ++j) a->h1[j] = a->a1[j] > 0 ? a->a1[j] : 0;
  for (uint32_t j = 0; j < kH2; ++j) a->a2[j] = p[kB2 + j];
  for (uint32_t i = 0; i < kH1; ++i) {
    const float hi = a->h1[i];
    const float* row = p + kW2 + i * kH2;
    for (uint32_t j = 0; j < kH2; ++j) a->a2[j] += hi * row[j];
  }
  float s = p[kB3];
  for (uint32_t j = 0; j < kH2; ++j) {
    a->h2[j] = a->a2[j] > 0 ? a->a2[j] : 0;
    s += a->h2[j] * p[kW3 + j];
  }
  a->score = s;
}

void Backward(const float* p, const Activations& a, float ds, float* g) {
  float da2[kH2], dh1[kH1];
  g[kB3] += ds;
  for (uint32_t j = 0; j < kH2; ++j) {
    g[kW3 + j] += ds * a.h2[j];
    da2[j] = a.a2[j] > 0 ? ds * p[kW3 + j] : 0;
  }
  for (uint32_t j = 0; j < kH2; ++j) g[kB2 + j] += da2[j];
  for (uint32_t i = 0; i < kH1; ++i) {
    const float hi = a.h1[i];
    const float* row = p + kW2 + i * kH2;
    float* grow = g + kW2 + i * kH2;
    float acc = 0;
    for (uint32_t j = 0; j < kH2; ++j) {
      grow[j] += hi * da2[j];
      acc += row[j] * da2[j];
    }
    dh1[i] = a.a1[i] > 0 ? acc : 0;
  }
  for (uint32_t j = 0; j < kH1; ++j) g[kB1 + j] += dh1[j];
  for (uint32_t i = 0; i < kIn; ++i) {
    const float zi = a.z[i];
    float* grow = g + kW1 + i * kH1;
    for (uint32_t j = 0; j < kH1; ++j) grow[j] += zi * dh1[j];
  }
}

}  // namespace

void FitStandardisation(const DecisionDataset& data, PolicyWeights* w) {
  const size_t rows = data.rows();
  for (uint32_t k = 0; k < kIn; ++k) {
    double sum = 0, sq = 0;
    for (size_t r = 0; r < rows; ++r) sum += data.features[r * kIn + k];
    const double mean = rows ? sum / double(rows) : 0;
    for (size_t r = 0; r < rows; ++r) {
      const double d = data.features[r * kIn + k] - mean;
      sq += d * d;
    }
    const double sd = rows ? std::sqrt(sq / double(rows)) : 1;
    w->feature_mean[k] = float(mean);
    w->feature_inv_std[k] = float(1.0 / std::max(sd, 1e-3));
  }
}

void FitEnvelope(const DecisionDataset& data, double margin, PolicyWeights* w) {
  const size_t rows = data.rows();
  for (uint32_t k = 0; k < kIn; ++k) {
    float lo = rows ? data.features[k] : 0.f, hi = lo;
    for (size_t r = 1; r < rows; ++r) {
      lo = std::min(lo, data.features[r * kIn + k]);
      hi = std::max(hi, data.features[r * kIn + k]);
    }
    const double pad = margin * std::max(double(hi) - double(lo), 1e-3);
    w->envelope_lo[k] = float(double(lo) - pad);
    w->envelope_hi[k] = float(double(hi) + pad);
  }
}

Status TrainBehaviourCloning(const DecisionDataset& data, const BcOptions& o, PolicyWeights* w, BcReport* report) {
  if (data.decisions() == 0) return Status(StatusCode::kInvalidArgument, "behaviour cloning needs recorded decisions");
  if (o.batch_decisions == 0 || !(o.learning_rate > 0)) {
    return Status(StatusCode::kInvalidArgument, "behaviour cloning needs a positive batch size and learning rate");
  }
  std::vector<float> p(kPolicyParams), g(kPolicyParams), m(kPolicyParams, 0.f), v(kPolicyParams, 0.f);
  SimRandom rng = SimRandom::Fork(o.seed, 0xBC);
  if (o.init_params) {
    for (size_t i = 0; i < kPolicyParams; ++i) {
      double sd = 0;
      if (i < kB1) sd = std::sqrt(2.0 / kIn);
      else if (i >= kW2 && i < kB2) sd = std::sqrt(2.0 / kH1);
      else if (i >= kW3 && i < kB3) sd = std::sqrt(1.0 / kH2);
      p[i] = float(sd * rng.Normal());
    }
  } else {
    GetPolicyParams(*w, p.data());
  }
  std::vector<uint32_t> order(data.decisions());
  std::iota(order.begin(), order.end(), 0u);
  Activations act[kPolicyMaxCandidates];
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  uint64_t step = 0;
  for (uint32_t epoch = 0; epoch < o.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng.NextU64() % i)]);
    double loss_sum = 0;
    uint64_t correct = 0;
    for (size_t start = 0; start < order.size(); start += o.batch_decisions) {
      const size_t end = std::min(order.size(), start + o.batch_decisions);
      std::fill(g.begin(), g.end(), 0.f);
      for (size_t k = start; k < end; ++k) {
        const uint32_t d = order[k];
        const uint32_t row0 = data.offsets[d], n = data.offsets[d + 1] - row0;
        float best = -INFINITY, mx = -INFINITY;
        uint32_t arg = 0;
        for (uint32_t c = 0; c < n; ++c) {
          Forward(p.data(), *w, &data.features[size_t(row0 + c) * kIn], &act[c]);
          if (act[c].score > best) {
            best = act[c].score;
            arg = c;
          }
          mx = std::max(mx, act[c].score);
        }
        double z = 0;
        for (uint32_t c = 0; c < n; ++c) z += std::exp(double(act[c].score - mx));
        const uint32_t label = data.labels[d];
        loss_sum += -(double(act[label].score - mx) - std::log(z));
        if (arg == label) ++correct;
        const float scale = 1.f / float(end - start);
        for (uint32_t c = 0; c < n; ++c) {
          const double prob = std::exp(double(act[c].score - mx)) / z;
          const float ds = float(prob - (c == label ? 1.0 : 0.0)) * scale;
          Backward(p.data(), act[c], ds, g.data());
        }
      }
      ++step;
      const double c1 = 1 - std::pow(b1, double(step)), c2 = 1 - std::pow(b2, double(step));
      for (size_t i = 0; i < kPolicyParams; ++i) {
        m[i] = float(b1 * m[i] + (1 - b1) * g[i]);
        v[i] = float(b2 * v[i] + (1 - b2) * double(g[i]) * g[i]);
        p[i] -= float(o.learning_rate * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps));
      }
    }
    if (report) {
      report->loss.push_back(loss_sum / double(order.size()));
      report->accuracy.push_back(double(correct) / double(order.size()));
    }
  }
  SetPolicyParams(w, p.data());
  return Status::Ok();
}

double ImitationAccuracy(const DecisionDataset& data, const PolicyWeights& w) {
  if (data.decisions() == 0) return 0;
  float scores[kPolicyMaxCandidates];
  uint64_t correct = 0;
  for (size_t d = 0; d < data.decisions(); ++d) {
    const uint32_t row0 = data.offsets[d], n = data.offsets[d + 1] - row0;
    ScorePolicyCandidates(w, &data.features[size_t(row0) * kIn], n, scores);
    uint32_t arg = 0;
    for (uint32_t c = 1; c < n; ++c) {
      if (scores[c] > scores[arg]) arg = c;
    }
    if (arg == data.labels[d]) ++correct;
  }
  return double(correct) / double(data.decisions());
}

}  // namespace serval::sim
