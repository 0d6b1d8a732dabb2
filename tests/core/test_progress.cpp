#include "core/progress.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "support/test_support.h"

namespace scenery {
namespace {

struct CapturedFile {
  CapturedFile() : file(std::tmpfile()) {}
  ~CapturedFile() { std::fclose(file); }
  std::string text() {
    std::fflush(file);
    std::rewind(file);
    std::string out;
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file)) > 0)
      out.append(buf, n);
    return out;
  }
  std::FILE* file;
};

TEST(Progress, ShowsRateAndEtaFromTheClock) {
  double t = 100.0;
  Progress::Options o;
  o.out = std::tmpfile();
  o.tty = 0;
  o.unit = "img";
  o.clock = [&] { return t; };
  Progress p("train", 1000, o);
  t += 10.0;
  p.advance(250);  // 25 img/s, 750 left -> 30 s
  EXPECT_EQ(p.line(), "train  25% 250/1000 [00:10<00:30, 25.0 img/s]");
  p.set_status("loss 2.31");
  EXPECT_EQ(p.line(), "train  25% 250/1000 [00:10<00:30, 25.0 img/s] loss 2.31");
  p.finish();
  std::fclose(o.out);
}

TEST(Progress, PlainModePrintsPeriodicLinesNotCarriageReturns) {
  CapturedFile out;
  double t = 0.0;
  Progress::Options o;
  o.out = out.file;
  o.tty = 0;
  o.plain_interval_s = 10.0;
  o.clock = [&] { return t; };
  {
    Progress p("epoch 1", 100, o);
    for (int i = 0; i < 100; ++i) {
      t += 0.5;  // 50 s in all: a line at the start and every 10 s, plus the final one
      p.advance();
    }
  }
  const std::string text = out.text();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  int lines = 0;
  for (char ch : text)
    lines += ch == '\n';
  EXPECT_GE(lines, 5);
  EXPECT_LE(lines, 7);
  EXPECT_NE(text.find("epoch 1 100% 100/100"), std::string::npos) << text;
}

// A loop whose last step was just printed (here: the first and only one)
// ends without printing the same final line again.
TEST(Progress, PlainModeNeverRepeatsTheFinalLine) {
  for (int steps : {1, 3}) {
    CapturedFile out;
    double t = 0.0;
    Progress::Options o;
    o.out = out.file;
    o.tty = 0;
    o.plain_interval_s = 10.0;
    o.clock = [&] { return t; };
    {
      Progress p("eval", steps, o);
      for (int i = 0; i < steps; ++i) {
        t += 20;  // every step is due a line
        p.advance();
      }
    }
    const std::string text = out.text();
    const std::string last = fmt::format("eval 100% {0}/{0}", steps);
    EXPECT_EQ(text.find(last), text.rfind(last)) << text;
    EXPECT_NE(text.find(last), std::string::npos) << text;
  }
}

TEST(Progress, TerminalModeRedrawsOneLine) {
  CapturedFile out;
  double t = 0.0;
  Progress::Options o;
  o.out = out.file;
  o.tty = 1;
  o.clock = [&] { return t; };
  {
    Progress p("eval", 10, o);
    for (int i = 0; i < 10; ++i) {
      t += 1.0;
      p.advance();
    }
  }
  const std::string text = out.text();
  EXPECT_NE(text.find('\r'), std::string::npos);
  EXPECT_NE(text.find("|########################|"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, UnknownTotalShowsCountAndRateOnly) {
  double t = 0.0;
  Progress::Options o;
  o.out = std::tmpfile();
  o.tty = 0;
  o.clock = [&] { return t; };
  Progress p("scan", 0, o);
  t = 4.0;
  p.advance(8);
  EXPECT_EQ(p.line(), "scan 8 [00:04, 2.0 it/s]");
  p.finish();
  std::fclose(o.out);
}

TEST(FormatDuration, HoursMinutesSeconds) {
  EXPECT_EQ(format_duration(0), "00:00");
  EXPECT_EQ(format_duration(61), "01:01");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "--:--");
}

}  // namespace
}  // namespace scenery
