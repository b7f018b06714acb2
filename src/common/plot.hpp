#pragma once
// Plots through gnuplot: the caller writes the plot commands and data; this sets
// the terminal from the output's extension (.png or .svg), runs gnuplot on a
// temporary output and renames it, so a failed plot leaves no file.

#include <filesystem>
#include <string>

namespace rdt {

// Size of every plot in pixels.
constexpr int kPlotWidth = 900;
constexpr int kPlotHeight = 560;

// Fail unless path ends in .png or .svg.
void check_plot_path(const std::filesystem::path & path);

// Quote text for a gnuplot string literal (single quotes, '' for a quote).
std::string gnuplot_string(const std::string & text);

// Run gnuplot with commands (no "set terminal"/"set output": added here) to draw
// path at width x height pixels. Data goes inline as datablocks ($name << EOD),
// so no file besides path is written. Fails naming the path and gnuplot's exit
// status when gnuplot is missing or fails.
void render_gnuplot(const std::string & commands, const std::filesystem::path & path, int width = kPlotWidth,
                    int height = kPlotHeight);

}  // namespace rdt
