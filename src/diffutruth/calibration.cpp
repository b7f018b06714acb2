#include "diffutruth/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace diffutruth {

namespace {

// L2 penalty on the slopes: keeps Newton's method finite on separable data.
constexpr double kRidge = 1e-3;
// Newton iterations stop when the largest step is below this, or after kMaxNewtonIterations.
constexpr double kNewtonTolerance = 1e-10;
constexpr int kMaxNewtonIterations = 100;

double median_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct MeanStd {
    double mean = 0.0;
    double std = 1.0;
};

MeanStd mean_std(std::span<const double> values) {
    double sum = 0.0;
    for (const double v : values) {
        sum += v;
    }
    const double mean = sum / static_cast<double>(values.size());
    double squares = 0.0;
    for (const double v : values) {
        squares += (v - mean) * (v - mean);
    }
    const double std = std::sqrt(squares / static_cast<double>(values.size()));
    return {mean, std > kMinSpread ? std : 1.0};
}

}  // namespace

RobustScale robust_scale(std::span<const double> values) {
    if (values.empty()) {
        rdt::fail("cannot standardise an empty set of scores");
    }
    RobustScale scale;
    scale.center = median_of({values.begin(), values.end()});
    std::vector<double> deviations;
    for (const double v : values) {
        deviations.push_back(std::abs(v - scale.center));
    }
    double spread = kMadToSigma * median_of(deviations);
    if (spread < kMinSpread) {
        // More than half the values are equal: fall back to the standard deviation.
        double squares = 0.0;
        for (const double v : values) {
            squares += (v - scale.center) * (v - scale.center);
        }
        spread = std::sqrt(squares / static_cast<double>(values.size()));
    }
    scale.spread = std::max(spread, kMinSpread);
    return scale;
}

std::vector<double> robust_z(std::span<const double> values) {
    const RobustScale scale = robust_scale(values);
    std::vector<double> z;
    for (const double v : values) {
        z.push_back(scale.spread > kMinSpread ? (v - scale.center) / scale.spread : 0.0);
    }
    return z;
}

double logistic(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

std::vector<double> fuse_scores(std::span<const double> energies, std::span<const double> confidences, double weight) {
    if (!(weight >= 0.0 && weight <= 1.0)) {
        rdt::fail("fusion weight {} is outside [0, 1]; pass --weight between 0 and 1", weight);
    }
    const std::vector<double> z_energy = robust_z(energies);
    if (confidences.empty()) {
        return z_energy;
    }
    if (confidences.size() != energies.size()) {
        rdt::fail("internal: {} energies but {} confidences", energies.size(), confidences.size());
    }
    const std::vector<double> z_confidence = robust_z(confidences);
    std::vector<double> scores;
    for (size_t i = 0; i < energies.size(); ++i) {
        scores.push_back(weight * z_energy[i] - (1.0 - weight) * z_confidence[i]);
    }
    return scores;
}

double LogisticModel::probability(double energy, double confidence) const {
    const double e = (energy - mean_energy) / scale_energy;
    const double c = (confidence - mean_confidence) / scale_confidence;
    return logistic(intercept + weight_energy * e + weight_confidence * c);
}

LogisticModel fit_logistic(std::span<const double> energies, std::span<const double> confidences,
                           std::span<const int> is_false) {
    const size_t n = energies.size();
    if (n == 0 || confidences.size() != n || is_false.size() != n) {
        rdt::fail("logistic fit needs equal, non-empty inputs ({} energies, {} confidences, {} labels)", n,
                  confidences.size(), is_false.size());
    }
    const auto positives = std::count(is_false.begin(), is_false.end(), 1);
    if (positives == 0 || positives == static_cast<long>(n)) {
        rdt::fail("the calibration set has only {} claims; fitting needs both true and false claims",
                  positives == 0 ? "true" : "false");
    }

    LogisticModel model;
    const MeanStd e_scale = mean_std(energies);
    const MeanStd c_scale = mean_std(confidences);
    model.mean_energy = e_scale.mean;
    model.scale_energy = e_scale.std;
    model.mean_confidence = c_scale.mean;
    model.scale_confidence = c_scale.std;

    // Newton's method on the penalised log-likelihood, parameters beta = (b0, b_e, b_c).
    double beta[3] = {0.0, 0.0, 0.0};
    for (int iteration = 0; iteration < kMaxNewtonIterations; ++iteration) {
        double gradient[3] = {0.0, -kRidge * beta[1], -kRidge * beta[2]};
        double hessian[3][3] = {{0, 0, 0}, {0, kRidge, 0}, {0, 0, kRidge}};
        for (size_t i = 0; i < n; ++i) {
            const double x[3] = {1.0, (energies[i] - e_scale.mean) / e_scale.std,
                                 (confidences[i] - c_scale.mean) / c_scale.std};
            const double p = logistic(beta[0] * x[0] + beta[1] * x[1] + beta[2] * x[2]);
            for (int a = 0; a < 3; ++a) {
                gradient[a] += (is_false[i] - p) * x[a];
                for (int b = 0; b < 3; ++b) {
                    hessian[a][b] += p * (1.0 - p) * x[a] * x[b];
                }
            }
        }

        // Solve hessian * step = gradient (3x3, Gaussian elimination with partial pivoting).
        double m[3][4];
        for (int a = 0; a < 3; ++a) {
            for (int b = 0; b < 3; ++b) {
                m[a][b] = hessian[a][b];
            }
            m[a][3] = gradient[a];
        }
        for (int col = 0; col < 3; ++col) {
            int pivot = col;
            for (int row = col + 1; row < 3; ++row) {
                if (std::abs(m[row][col]) > std::abs(m[pivot][col])) {
                    pivot = row;
                }
            }
            std::swap(m[col], m[pivot]);
            if (std::abs(m[col][col]) < 1e-300) {
                rdt::fail("logistic fit is singular; the calibration scores carry no variation");
            }
            for (int row = 0; row < 3; ++row) {
                if (row != col) {
                    const double factor = m[row][col] / m[col][col];
                    for (int k = col; k < 4; ++k) {
                        m[row][k] -= factor * m[col][k];
                    }
                }
            }
        }
        double largest = 0.0;
        for (int a = 0; a < 3; ++a) {
            const double step = m[a][3] / m[a][a];
            beta[a] += step;
            largest = std::max(largest, std::abs(step));
        }
        model.iterations = iteration + 1;
        if (largest < kNewtonTolerance) {
            break;
        }
    }
    model.intercept = beta[0];
    model.weight_energy = beta[1];
    model.weight_confidence = beta[2];
    return model;
}

}  // namespace diffutruth
