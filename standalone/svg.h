/*
 * svg.h - the little SVG the picture subcommands write: standalone files
 * (no scripts, no external fonts or styles) that any browser and
 * rsvg-convert render the same. Attributes are passed as preformatted
 * strings (`class="arrow" stroke="#333"`): the printers stay readable and
 * the tests find every element by its class.
 */
#ifndef TP_SVG_H
#define TP_SVG_H

#include <stdio.h>

#define SVG_FONT_PX 12.0
#define SVG_RED "#c0182b"
#define SVG_INK "#222222"
#define SVG_GREY "#777777"

/* XML header, the root element (w x h user units = pixels), a white
 * background and the title a browser shows in its tab. */
void svg_begin(FILE *f, double w, double h, const char *title);
void svg_end(FILE *f);
/* Text with &, <, >, " escaped. */
void svg_puts(FILE *f, const char *s);
void svg_text(FILE *f, double x, double y, const char *attrs, const char *text);
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *attrs);
void svg_rect(FILE *f, double x, double y, double w, double h, const char *attrs);
/* Rough width of text in the default sans-serif at px (for boxes and
 * layout; on the generous side so labels do not collide). */
double svg_text_width(const char *s, double px);
/* A round tick step (1, 2 or 5 times a power of ten) giving about n ticks
 * over span. */
double svg_nice_step(double span, int n);
/* A tick value without trailing zeros: "0.5", "250", "1.25". */
void svg_num(double v, char *buf, size_t len);

#endif /* TP_SVG_H */
