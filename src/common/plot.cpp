#include "common/plot.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "common/error.hpp"
#include "common/output.hpp"

namespace rdt {

void check_plot_path(const std::filesystem::path & path) {
    const std::string extension = path.extension().string();
    if (extension != ".png" && extension != ".svg") {
        fail("plot file '{}' must end in .png or .svg", path.string());
    }
}

namespace {

// Quote text for /bin/sh: single quotes, with ' written as '\''.
std::string shell_quote(const std::string & text) {
    std::string quoted = "'";
    for (char c : text) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

}  // namespace

std::string gnuplot_string(const std::string & text) {
    std::string quoted = "'";
    for (char c : text) {
        quoted += c;
        if (c == '\'') {
            quoted += '\'';
        }
    }
    return quoted + "'";
}

void render_gnuplot(const std::string & commands, const std::filesystem::path & path, int width, int height) {
    check_plot_path(path);
    const bool png = path.extension() == ".png";
    const std::string terminal = png ? fmt::format("pngcairo size {},{} font ',10'", width, height)
                                     : fmt::format("svg size {},{} dynamic font ',10'", width, height);

    write_via_temporary(path, [&](const std::filesystem::path & temporary) {
        const std::filesystem::path script = temporary.string() + ".gp";
        write_file_atomic(script, fmt::format("set terminal {} noenhanced\nset output {}\n{}\nunset output\n", terminal,
                                              gnuplot_string(temporary.string()), commands));
        const int status = std::system(fmt::format("gnuplot {} 2>/dev/null", shell_quote(script.string())).c_str());
        std::filesystem::remove(script);
        if (status != 0 || !std::filesystem::exists(temporary)) {
            fail("gnuplot failed to draw '{}' (status {}); install gnuplot (Debian: gnuplot-nox) with the {} "
                 "terminal",
                 path.string(), status, png ? "pngcairo" : "svg");
        }
    });
}

}  // namespace rdt
