// Behaviour cloning: fits the policy network to a teacher's choices (DecisionDataset) by minimising
// the cross-entropy of the softmax over each decision's candidate scores, with Adam on minibatches of
// decisions. Also fits the input standardisation and the training envelope from the data.
// Deterministic for a given seed. Single-threaded.
#pragma once

#include <cstdint>
#include <vector>

#include "decision_recorder.h"
#include "policy_network.h"
#include "status.h"

namespace serval::sim {

struct BcOptions {
  uint32_t epochs = 4;
  uint32_t batch_decisions = 64;
  double learning_rate = 3e-3;
  uint64_t seed = 1;
  bool init_params = true;  // He-initialise the parameters first (else start from *weights)
};

struct BcReport {
  std::vector<double> loss;      // mean cross-entropy per epoch
  std::vector<double> accuracy;  // fraction of decisions where the argmax is the teacher's choice, per epoch
};

// feature_mean / feature_inv_std from the data.
void FitStandardisation(const DecisionDataset& data, PolicyWeights* weights);
// envelope_lo / envelope_hi: the data's range per feature, widened by `margin` x that range on each side.
void FitEnvelope(const DecisionDataset& data, double margin, PolicyWeights* weights);

Status TrainBehaviourCloning(const DecisionDataset& data, const BcOptions& options, PolicyWeights* weights,
                             BcReport* report);

// Fraction of decisions where the network's highest score is the teacher's choice.
double ImitationAccuracy(const DecisionDataset& data, const PolicyWeights& weights);

}  // namespace serval::sim
