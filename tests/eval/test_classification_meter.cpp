#include "eval/classification_meter.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace scenery::eval {
namespace {

torch::Tensor scores(std::vector<std::vector<float>> rows) {
  const int64_t n = rows.size(), c = rows[0].size();
  auto t = torch::empty({n, c});
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < c; ++j)
      t[i][j] = rows[i][j];
  }
  return t;
}

torch::Tensor labels(std::vector<int64_t> v) {
  return torch::tensor(v, torch::kLong);
}

TEST(ClassificationMeter, TopKMatchesHandCountedRanks) {
  ClassificationMeter m(4, {1, 2, 3});
  // sample 0: label 2 ranked 1st; sample 1: label 0 ranked 3rd; sample 2: label 3 ranked 2nd;
  // sample 3: label 1 ranked 4th.
  m.add(scores({{0.1f, 0.2f, 0.9f, 0.3f},
                {0.2f, 0.5f, 0.1f, 0.9f},
                {0.8f, 0.1f, 0.2f, 0.4f},
                {0.4f, 0.0f, 0.3f, 0.2f}}),
        labels({2, 0, 3, 1}));
  EXPECT_EQ(m.count(), 4);
  EXPECT_DOUBLE_EQ(m.topk(1), 1.0 / 4);
  EXPECT_DOUBLE_EQ(m.topk(2), 2.0 / 4);
  EXPECT_DOUBLE_EQ(m.topk(3), 3.0 / 4);
  EXPECT_THROW(m.topk(5), EvalError);
}

TEST(ClassificationMeter, TiesAreBrokenByLowerClassIndex) {
  ClassificationMeter m(3, {1, 2});
  // All three classes tie: class 0 is first, class 1 second, class 2 third.
  m.add(scores({{1, 1, 1}, {1, 1, 1}, {1, 1, 1}}), labels({0, 1, 2}));
  EXPECT_DOUBLE_EQ(m.topk(1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.topk(2), 2.0 / 3);
  // Top-1 prediction of a tie is the lowest index: everything predicted as 0.
  EXPECT_EQ(m.confusion_at(1, 0), 1);
  EXPECT_EQ(m.confusion_at(2, 0), 1);
}

TEST(ClassificationMeter, MeanClassAccuracyBothConventions) {
  ClassificationMeter m(4, {1});
  // class 0: 2 of 3 right; class 1: 0 of 1; class 2: absent; class 3: 1 of 1.
  m.add(scores({{9, 0, 0, 0}, {9, 0, 0, 0}, {0, 9, 0, 0}, {9, 0, 0, 0}, {0, 0, 0, 9}}),
        labels({0, 0, 0, 1, 3}));
  EXPECT_DOUBLE_EQ(m.class_accuracy(0), 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.class_accuracy(1), 0.0);
  EXPECT_TRUE(std::isnan(m.class_accuracy(2)));
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy(McaConvention::kPresentClasses), (2.0 / 3 + 0 + 1) / 3);
  EXPECT_DOUBLE_EQ(m.mean_class_accuracy(McaConvention::kAllClasses), (2.0 / 3 + 0 + 0 + 1) / 4);
  EXPECT_DOUBLE_EQ(m.topk(1), 3.0 / 5);  // differs from MCA: MCA weighs classes equally
}

TEST(ClassificationMeter, ConfusionRowsAreTruthColumnsArePredictions) {
  ClassificationMeter m(3, {1});
  m.add(scores({{0, 5, 0}, {0, 5, 0}, {0, 0, 5}}), labels({0, 0, 2}));
  EXPECT_EQ(m.confusion_at(0, 1), 2);
  EXPECT_EQ(m.confusion_at(2, 2), 1);
  EXPECT_EQ(m.confusion_at(1, 1), 0);
}

TEST(ClassificationMeter, MergingSplitsEqualsOneMeter) {
  torch::manual_seed(3);
  const auto s = torch::randn({100, 10});
  const auto y = torch::randint(0, 10, {100}, torch::kLong);
  ClassificationMeter whole(10), a(10), b(10), via_state(10);
  whole.add(s, y);
  a.add(s.slice(0, 0, 37), y.slice(0, 0, 37));
  b.add(s.slice(0, 37), y.slice(0, 37));
  a.merge(b);
  via_state.merge_state(whole.state());
  for (int64_t k : {1, 2, 5}) {
    EXPECT_DOUBLE_EQ(a.topk(k), whole.topk(k));
    EXPECT_DOUBLE_EQ(via_state.topk(k), whole.topk(k));
  }
  EXPECT_EQ(a.confusion(), whole.confusion());
  EXPECT_DOUBLE_EQ(a.mean_class_accuracy(), whole.mean_class_accuracy());
}

TEST(ClassificationMeter, AgreesWithTorchTopkWhenThereAreNoTies) {
  torch::manual_seed(11);
  const auto s = torch::randn({500, 365});
  const auto y = torch::randint(0, 365, {500}, torch::kLong);
  ClassificationMeter m(365);
  m.add(s, y);
  for (int64_t k : {1, 2, 5}) {
    const auto top = std::get<1>(s.topk(k, 1));
    const double expected = top.eq(y.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
    EXPECT_DOUBLE_EQ(m.topk(k), expected) << "k=" << k;
  }
}

TEST(ClassificationMeter, RejectsBadInputWithClearMessages) {
  ClassificationMeter m(3);
  EXPECT_THROW(m.add(torch::zeros({2, 4}), labels({0, 1})), EvalError);
  EXPECT_THROW(m.add(torch::zeros({2, 3}), labels({0})), EvalError);
  try {
    m.add(torch::zeros({1, 3}), labels({3}));
    FAIL();
  } catch (const EvalError& e) {
    EXPECT_NE(std::string(e.what()).find("label 3 of sample 0 is outside 0..2"), std::string::npos);
  }
  auto nan = torch::zeros({1, 3});
  nan[0][1] = std::nanf("");
  EXPECT_THROW(m.add(nan, labels({0})), EvalError);
  EXPECT_EQ(m.count(), 0);
}

TEST(ClassificationMeter, EmptyMeterReportsNaNNotZero) {
  ClassificationMeter m(5);
  EXPECT_TRUE(std::isnan(m.topk(1)));
  EXPECT_TRUE(std::isnan(m.mean_class_accuracy()));
}

}  // namespace
}  // namespace scenery::eval
