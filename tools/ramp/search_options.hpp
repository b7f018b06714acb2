#pragma once
// Options shared by `ramp search` and `ramp quantize`.
#include <memory>
#include <string>

#include "ramp/search_job.hpp"

namespace CLI {
class App;
}

namespace ramp_cli {

struct SearchCli {
    ramp::SearchJobParams params;
    std::string metric = "kl";
    std::string action_mapping{ramp::to_string(ramp::kDefaultActionMapping)};
    std::string checkpoint_path;
    int checkpoint_every = 0;
    bool resume = false;
};

// Add model, calibration, budget, episodes, SAC, reward and checkpoint options.
void add_search_options(CLI::App & cmd, SearchCli & cli);

// Apply the parsed strings (metric, checkpoint and resume) to cli.params. Fails on
// invalid values and, before any work starts, on output paths (policy, checkpoint,
// sensitivity cache) whose folder is missing or whose file exists without force.
void finish_search_options(SearchCli & cli, bool force);

// Log one line per episode at the pace of the progress output.
void report_episode(const ramp::EpisodeReport & report, const ramp::PlanEnvironment & env);

}  // namespace ramp_cli
