#include "core/html.h"

#include <gtest/gtest.h>

#include "core/csv_text.h"
#include "core/json_writer.h"

namespace scenery {
namespace {

TEST(ReportText, HtmlEscapesEveryCharacterThatCouldOpenMarkup) {
  EXPECT_EQ(html_escape(R"(<a href="x">Tom & 'Jerry'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
}

TEST(ReportText, EveryPageOpensWithTheSameHeadAndItsOwnStyle) {
  const std::string head = html_page_head("Units of <resnet18>", "td { padding: 2px; }\n");
  EXPECT_EQ(head.rfind("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">", 0), 0u)
      << head;
  EXPECT_NE(head.find("<title>Units of &lt;resnet18&gt;</title>"), std::string::npos) << head;
  EXPECT_LT(head.find("body {"), head.find("td { padding: 2px; }")) << head;
  const std::string tail = "</style></head><body>\n";
  EXPECT_EQ(head.substr(head.size() - tail.size()), tail) << head;
}

TEST(ReportText, CsvFieldsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
}

TEST(ReportText, JsonKeepsKeyOrderAndFullPrecision) {
  JsonWriter json(/*pretty=*/false);
  json.begin_object().value("z", 0.1).value("a", int64_t{3}).value("s", "q\"").end_object();
  EXPECT_EQ(json.str(), R"({"z":0.1,"a":3,"s":"q\""})"
                        "\n");
}

}  // namespace
}  // namespace scenery
