/* tools/page_assets.h: the lesson page's template, styles and script, compiled in from tools/page/ by tools/embed_page.sh. */
#ifndef NATLB_PAGE_ASSETS_H
#define NATLB_PAGE_ASSETS_H

/* page.html: the page, with the marks @@TITLE@@, @@CSS@@, @@DATA@@ and @@SCRIPT@@ (tools/html_page.c). */
extern const char html_page_html[];
extern const char html_page_css[];
extern const char html_page_js[];

#endif
