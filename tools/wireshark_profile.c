/* tools/wireshark_profile.c: natlb wireshark-profile: a Wireshark configuration profile for natlb's output (Wireshark User's Guide, "Configuration Profiles", "Packet colorization").
 *
 * A profile is a folder of Wireshark's own configuration files.  This one holds two:
 * `preferences`, whose gui.column.format adds the link (frame.interface_name) and the stage's
 * sentence (frame.comment) as columns and which turns TCP sequence analysis off (the same segment
 * on three links is no retransmission; Wireshark 4.0 has no per-interface conversations, the
 * conversation deinterlacing of later versions), and `colorfilters`, one rule per kind of view, in the
 * file's own syntax: @NAME@DISPLAY FILTER@[background r,g,b][foreground r,g,b], 16 bits per
 * colour, the first rule that matches wins.  The filters match the words natlb's comments use
 * (tests/test_wireshark_profile.c runs each over the lessons with tshark).
 *
 * Without -o the profile goes where Wireshark looks for the user's profiles:
 * $WIRESHARK_CONFIG_DIR/profiles/natlb when that is set, else
 * $XDG_CONFIG_HOME/wireshark/profiles/natlb (by default ~/.config/wireshark/profiles/natlb).
 * Exit 0; 1 when a file cannot be written; 2 on bad usage.
 */
#include <errno.h>
#include <stdio.h>

#include "tools/cli.h"

#define PROFILE_NAME "natlb"

/* Columns, as Wireshark writes them: title, then a format (%m number, %t relative time, %s and %d
 * the network addresses, %p protocol, %L length, %i info; %Cus:FIELD:OCCURRENCE:R a custom
 * column of FIELD, resolved, every occurrence when OCCURRENCE is 0). */
static const char preferences[] =
	"# natlb's Wireshark profile: which link a view is on, and what the stage did (natlb wireshark-profile).\n"
	"gui.column.format:\n"
	"\t\"No.\", \"%m\",\n"
	"\t\"Time\", \"%t\",\n"
	"\t\"Interface\", \"%Cus:frame.interface_name:0:R\",\n"
	"\t\"Source\", \"%s\",\n"
	"\t\"Destination\", \"%d\",\n"
	"\t\"Protocol\", \"%p\",\n"
	"\t\"Length\", \"%L\",\n"
	"\t\"Info\", \"%i\",\n"
	"\t\"Comment\", \"%Cus:frame.comment:0:R\"\n"
	"# One segment shown on several links, unchanged, is not a retransmission: Wireshark 4.0 keys a\n"
	"# TCP conversation by addresses and ports only, so its sequence analysis would say it is.  For\n"
	"# that analysis on one link, replay with --links LINK and open that file without this profile.\n"
	"tcp.analyze_sequence_numbers: FALSE\n";

/* One colouring rule per kind of view, most specific first. */
struct colour_rule {
	const char *name;
	const char *filter;
	unsigned bg[3], fg[3];
};

static const struct colour_rule colour_rules[] = {
	/* A stage dropped it: the reason follows "DROP (" in the words --stats counts it under. */
	{ "natlb: dropped by a stage", "frame.comment contains \"DROP (\"", { 65535, 49344, 49344 }, { 20560, 0, 0 } },
	/* Packets a stage sent itself: RSTs, ICMP errors, a balancer's answers and backend connections. */
	{ "natlb: sent by a stage itself",
	  "frame.comment matches \"TCP RST|ICMP (destination unreachable|time exceeded)|own (answer|SYN-ACK)|"
	  "backend connection|the target's|the balancer's ACK\"",
	  { 65535, 62451, 45232 }, { 16448, 12336, 0 } },
	/* Views natlb worked out from the capture: the packet before the stages that the capture shows after. */
	{ "natlb: derived (not in the capture)", "frame.comment contains \"(derived\"", { 59110, 59110, 59110 },
	  { 12336, 12336, 12336 } },
	/* A translation: the view after a NAT or a balancer (its flow table's "entry #N") rewrote it.
	 * Not "flow #": every view's comment begins with it. */
	{ "natlb: translated", "frame.comment matches \"[SD]NAT |entry #|hairpinned\"", { 53456, 63736, 53456 },
	  { 0, 16448, 0 } },
};

/* The colorfilters file's text. */
static char *colorfilters_text(void)
{
	GString *s = g_string_new("# natlb's colouring rules (natlb wireshark-profile): the first that matches wins.\n");
	for (unsigned i = 0; i < G_N_ELEMENTS(colour_rules); i++) {
		const struct colour_rule *r = &colour_rules[i];
		g_string_append_printf(s, "@%s@%s@[%u,%u,%u][%u,%u,%u]\n", r->name, r->filter, r->bg[0], r->bg[1], r->bg[2],
		                       r->fg[0], r->fg[1], r->fg[2]);
	}
	return g_string_free(s, FALSE);
}

/* Where Wireshark looks for the user's profile of that name. */
static char *user_profile_dir(void)
{
	const char *conf = g_getenv("WIRESHARK_CONFIG_DIR");
	if (conf && *conf)
		return g_build_filename(conf, "profiles", PROFILE_NAME, NULL);
	return g_build_filename(g_get_user_config_dir(), "wireshark", "profiles", PROFILE_NAME, NULL);
}

/* dir/name holds text; written to a temporary and renamed, so a failed write leaves no half file. */
static gboolean write_file(const char *dir, const char *name, const char *text, GError **err)
{
	char *path = g_build_filename(dir, name, NULL);
	gboolean ok = g_file_set_contents(path, text, -1, err);
	g_free(path);
	return ok;
}

int wireshark_profile_main(int argc, char **argv)
{
	char *dir = NULL, *colours = NULL;
	GOptionEntry entries[] = {
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &dir,
		  "Write the profile's files into DIR (default: the user's Wireshark profiles folder, "
		  "as profile 'natlb')", "DIR" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *err = NULL;
	int status = EXIT_USAGE;

	g_option_context_set_summary(ctx, "Write a Wireshark configuration profile for natlb's output: columns for the link\n"
	                             "(Interface) and the stage's sentence (Comment), and colours for dropped, derived,\n"
	                             "translated views and packets a stage sent itself.  In Wireshark: Edit > Configuration\n"
	                             "Profiles > natlb; in tshark: tshark -C natlb -r OUT.pcapng.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb wireshark-profile: %s (natlb wireshark-profile --help)\n", err->message);
		goto out;
	}
	if (argc != 1) {
		fprintf(stderr, "natlb wireshark-profile: unexpected argument '%s' (natlb wireshark-profile [-o DIR])\n", argv[1]);
		goto out;
	}
	bool installed = dir == NULL;
	if (!dir)
		dir = user_profile_dir();
	status = EXIT_RUNTIME;
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		fprintf(stderr, "natlb wireshark-profile: cannot create %s: %s\n", dir, g_strerror(errno));
		goto out;
	}
	colours = colorfilters_text();
	if (!write_file(dir, "preferences", preferences, &err) || !write_file(dir, "colorfilters", colours, &err)) {
		fprintf(stderr, "natlb wireshark-profile: %s\n", err->message);
		goto out;
	}
	if (installed)
		printf("natlb wireshark-profile: installed profile '%s' in %s\n"
		       "  Wireshark: Edit > Configuration Profiles > %s (or wireshark -C %s -r OUT.pcapng)\n"
		       "  tshark:    tshark -C %s -r OUT.pcapng\n", PROFILE_NAME, dir, PROFILE_NAME, PROFILE_NAME, PROFILE_NAME);
	else
		printf("natlb wireshark-profile: wrote %s/preferences and %s/colorfilters\n"
		       "  to use it, copy %s to your Wireshark profiles folder as '%s', or import it in\n"
		       "  Edit > Configuration Profiles\n", dir, dir, dir, PROFILE_NAME);
	status = EXIT_OK;
out:
	g_clear_error(&err);
	g_option_context_free(ctx);
	g_free(colours);
	g_free(dir);
	return status;
}
