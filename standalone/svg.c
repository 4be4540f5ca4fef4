/*
 * svg.c - helpers for the picture subcommands' SVG (see svg.h).
 */
#include <math.h>
#include <string.h>

#include "svg.h"

void svg_begin(FILE *f, double w, double h, const char *title)
{
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
	        "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Verdana, Helvetica, Arial, sans-serif\" "
	        "font-size=\"%.0f\" fill=\"%s\">\n<title>",
	        w, h, w, h, SVG_FONT_PX, SVG_INK);
	svg_puts(f, title);
	fprintf(f, "</title>\n");
	svg_rect(f, 0, 0, w, h, "class=\"background\" fill=\"#ffffff\"");
}

void svg_end(FILE *f)
{
	fprintf(f, "</svg>\n");
}

void svg_puts(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

void svg_text(FILE *f, double x, double y, const char *attrs, const char *text)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	svg_puts(f, text);
	fprintf(f, "</text>\n");
}

void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *attrs)
{
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", x1, y1, x2, y2, attrs);
}

void svg_rect(FILE *f, double x, double y, double w, double h, const char *attrs)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" %s/>\n", x, y, w, h, attrs);
}

double svg_text_width(const char *s, double px)
{
	double em = 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xc0) == 0x80)
			continue; /* UTF-8 continuation: counted with its lead byte */
		em += strchr("il.,:;'|!() ", c) ? 0.32 : (c >= 'A' && c <= 'Z') || strchr("mw=+-_", c) ? 0.72 : 0.6;
	}
	return em * px;
}

double svg_nice_step(double span, int n)
{
	if (!(span > 0) || n < 1)
		return 1;
	double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
	return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

void svg_num(double v, char *buf, size_t len)
{
	if (fabs(v) < 1e-12)
		v = 0; /* no "-0" */
	snprintf(buf, len, "%.6f", v);
	char *dot = strchr(buf, '.');
	if (!dot)
		return;
	char *e = buf + strlen(buf) - 1;
	while (e > dot && *e == '0')
		*e-- = '\0';
	if (e == dot)
		*e = '\0';
}
