// HTML text for the reports the tools write (unit dissection, receptive
// fields, minimal images): one escaping rule and one page head.
#pragma once

#include <string>

namespace scenery {

// &, <, >, " and ' as entities: safe in element text and quoted attributes.
std::string html_escape(const std::string& text);

// The head every report page opens with: doctype, UTF-8, the escaped title,
// the shared base style followed by `style` (the page's own rules), then <body>.
std::string html_page_head(const std::string& title, const std::string& style = "");

}  // namespace scenery
