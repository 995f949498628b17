/*
 * Copyright (c) 2026 The cstream authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "xmalloc.h"

/*
 * cstream --completion bash|zsh|fish: a completion script written from
 * the command table and the option tables that --help prints, so that a
 * new option is completed as soon as it is in its table. make install
 * puts the scripts where bash-completion, zsh and fish look for them
 * (Makefile.am). What an option's value is comes from its help argname:
 * FILE is a file name, "a|b" a list of words, "[=a]" an optional value,
 * CMD a program; positional HOST, PORT, PATH and COMMAND likewise.
 */

/* The tables of cmd.c, handed over by completion_print. */
static const struct cmd_entry *const	*completion_table;
static const struct cmd_option		*completion_globals;

enum completion_kind {
	KIND_NONE,	/* a flag */
	KIND_TEXT,	/* a value nothing can guess */
	KIND_FILE,
	KIND_WORDS,	/* one of the words in the argname */
	KIND_PROGRAM,
	KIND_HOST,
	KIND_PORT,
	KIND_COMMAND	/* one of cstream's commands */
};

/* Services known to /etc/services, as port numbers (cstream's PORT). */
#define COMPLETION_PORTS_AWK_BASH \
	"awk '$2 ~ /\\/tcp$/ { sub(/\\/tcp$/, \"\", $2); print $2 }' " \
	"/etc/services 2>/dev/null"

/* The kind of an option's value; the words of "a|b" or "[=a|b]" in *words. */
static enum completion_kind
completion_option_kind(const struct cmd_option *o, char *words, size_t len)
{
	const char	*a = o->argname;
	size_t		 i, k = 0;

	*words = '\0';
	if (o->has_arg == CMD_ARG_NONE || a == NULL)
		return (KIND_NONE);
	if (strcmp(a, "FILE") == 0)
		return (KIND_FILE);
	if (strstr(a, "CMD") != NULL)
		return (KIND_PROGRAM);
	if (strchr(a, '|') == NULL && strncmp(a, "[=", 2) != 0)
		return (KIND_TEXT);
	for (i = strncmp(a, "[=", 2) == 0 ? 2 : 0; a[i] != '\0' &&
	    a[i] != ']' && k + 1 < len; i++)
		words[k++] = a[i] == '|' ? ' ' : a[i];
	words[k] = '\0';
	return (KIND_WORDS);
}

/* The kind of a positional word from its name in the usage line. */
static enum completion_kind
completion_word_kind(const char *w, size_t len)
{
	if (*w == '[') {
		w++;
		len -= 2;
	}
	if (len == 4 && strncmp(w, "HOST", 4) == 0)
		return (KIND_HOST);
	if (len == 4 && strncmp(w, "PORT", 4) == 0)
		return (KIND_PORT);
	if (len == 4 && strncmp(w, "PATH", 4) == 0)
		return (KIND_FILE);
	if (len == 7 && strncmp(w, "COMMAND", 7) == 0)
		return (KIND_COMMAND);
	return (KIND_TEXT);
}

/*
 * The kind of positional argument pos (0-based) of a command. A leading
 * optional word takes the kind of the one after it: "serve [HOST] PORT"
 * is most often "serve PORT".
 */
static enum completion_kind
completion_pos_kind(const struct cmd_entry *e, int pos)
{
	const char	*w[8], *u = e->usage;
	size_t		 l[8], n = 0, len;
	int		 k;

	while (*u != '\0' && n < 8) {
		u += strspn(u, " ");
		len = strcspn(u, " ");
		if (len > 0 && strncmp(u, "[OPTIONS]", len) != 0) {
			w[n] = u;
			l[n++] = len;
		}
		u += len;
	}
	if (pos >= (int)n)
		return (KIND_NONE);
	k = pos;
	if (*w[k] == '[' && k + 1 < (int)n && k == 0)
		k++;
	return (completion_word_kind(w[k], l[k]));
}

/* Every option of a command (NULL: before one), globals last. */
static void
completion_each(const struct cmd_entry *e,
    void (*fn)(const struct cmd_entry *, const struct cmd_option *, void *),
    void *arg)
{
	const struct cmd_option	*o;

	for (o = e != NULL ? cmd_options(e) : NULL; o != NULL && o->name != NULL;
	    o++)
		fn(e, o, arg);
	for (o = completion_globals; o->name != NULL; o++)
		fn(e, o, arg);
}

/* For before a command: what main and cmd_run take there besides. */
static const struct cmd_option completion_top_options[] = {
	{ "version", 0, CMD_ARG_NONE, 0, NULL, "print the version" },
	{ "completion", 0, CMD_ARG_REQUIRED, 0, "bash|zsh|fish",
	  "print a shell completion script" },
	{ NULL, 0, 0, 0, NULL, NULL }
};

/* --- bash ---------------------------------------------------------------- */

static void
completion_bash_word_cb(const struct cmd_entry *e, const struct cmd_option *o,
    void *arg)
{
	if (o->flag != 0)
		printf(" -%c", o->flag);
	printf(" --%s", o->name);
}

static void
completion_bash_kind_cb(const struct cmd_entry *e, const struct cmd_option *o,
    void *arg)
{
	static const char *const names[] = { "none", "text", "file", "words",
	    "program" };
	char			 words[64];
	enum completion_kind	 k = completion_option_kind(o, words,
				    sizeof words);
	const char		*cmd = arg;

	if (k == KIND_NONE)
		return;
	if (o->flag != 0)
		printf("\t%s:-%c|%s:--%s", cmd, o->flag, cmd, o->name);
	else
		printf("\t%s:--%s", cmd, o->name);
	printf(") echo %s%s%s ;;\n",
	    o->has_arg == CMD_ARG_OPTIONAL ? "optional" : names[k],
	    *words != '\0' ? " " : "", words);
}

static void
completion_bash_tables(void)
{
	static const char *const	 kinds[] = { "none", "text", "file",
					    "words", "program", "host", "port",
					    "command" };
	const struct cmd_entry *const	*e;
	const struct cmd_option		*o;
	int				 i;

	printf("_cstream_commands=\"");
	for (e = completion_table; *e != NULL; e++)
		printf("%s%s", e == completion_table ? "" : " ", (*e)->name);
	printf("\"\n\n# Options of command $1 (empty: before the command)."
	    "\n_cstream_options()\n{\n\tcase $1 in\n");
	for (e = completion_table; *e != NULL; e++) {
		printf("\t%s) echo \"", (*e)->name);
		completion_each(*e, completion_bash_word_cb, NULL);
		printf("\" ;;\n");
	}
	printf("\t*) echo \"");
	for (o = completion_top_options; o->name != NULL; o++)
		printf(" --%s", o->name);
	completion_each(NULL, completion_bash_word_cb, NULL);
	printf("\" ;;\n\tesac\n}\n\n");

	printf("# The value option $2 of command $1 takes: none, text, file,\n"
	    "# words W..., program.\n_cstream_option_kind()\n{\n"
	    "\tcase $1:$2 in\n");
	for (e = completion_table; *e != NULL; e++) {
		for (o = cmd_options(*e); o != NULL && o->name != NULL; o++)
			completion_bash_kind_cb(*e, o, (void *)(*e)->name);
	}
	for (o = completion_globals; o->name != NULL; o++)
		completion_bash_kind_cb(NULL, o, "*");
	for (o = completion_top_options; o->name != NULL; o++)
		completion_bash_kind_cb(NULL, o, "");
	printf("\t*) echo none ;;\n\tesac\n}\n\n");

	printf("# What positional argument $2 (from 1) of command $1 is.\n"
	    "_cstream_arg_kind()\n{\n\tcase $1:$2 in\n");
	for (e = completion_table; *e != NULL; e++) {
		for (i = 0; completion_pos_kind(*e, i) != KIND_NONE; i++)
			printf("\t%s:%d) echo %s ;;\n", (*e)->name, i + 1,
			    kinds[completion_pos_kind(*e, i)]);
	}
	printf("\t*) echo none ;;\n\tesac\n}\n\n");
}

/*
 * The completion function proper: it finds the command (a unique prefix
 * is one, as cmd_find takes it), skips option values, counts positional
 * words, and completes what the tables above say. bash splits "--opt=val"
 * at the '=' (COMP_WORDBREAKS): "=" is then a word of its own.
 */
static const char completion_bash_main[] =
"_cstream_ports()\n"
"{\n"
"\t" COMPLETION_PORTS_AWK_BASH " | sort -nu\n"
"}\n"
"\n"
"# Programs --exec can run: executables in PATH, not the shell's builtins,\n"
"# keywords, aliases or functions (compgen -c's), which exec cannot.\n"
"_cstream_programs()\n"
"{\n"
"\tlocal d f IFS=:\n"
"\tfor d in $PATH; do\n"
"\t\tfor f in \"${d:-.}\"/\"$1\"*; do\n"
"\t\t\t[[ -f $f && -x $f ]] && printf '%s\\n' \"${f##*/}\"\n"
"\t\tdone\n"
"\tdone | sort -u\n"
"}\n"
"\n"
"_cstream_reply()\n"
"{\n"
"\tlocal cur=$1 kind=$2\n"
"\tshift 2\n"
"\tcase $kind in\n"
"\tfile)\n"
"\t\tcompopt -o filenames 2>/dev/null\n"
"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
"\tprogram) mapfile -t COMPREPLY < <(_cstream_programs \"$cur\") ;;\n"
"\thost) mapfile -t COMPREPLY < <(compgen -A hostname -- \"$cur\") ;;\n"
"\tport) mapfile -t COMPREPLY < <(compgen -W \"$(_cstream_ports)\" -- \"$cur\") ;;\n"
"\tcommand) mapfile -t COMPREPLY < <(compgen -W \"$_cstream_commands\" -- \"$cur\") ;;\n"
"\twords|optional) mapfile -t COMPREPLY < <(compgen -W \"$*\" -- \"$cur\") ;;\n"
"\tesac\n"
"}\n"
"\n"
"# A unique prefix of a command is that command.\n"
"_cstream_command()\n"
"{\n"
"\tlocal c found=\n"
"\tfor c in $_cstream_commands; do\n"
"\t\t[[ $c == \"$1\" ]] && { echo \"$c\"; return; }\n"
"\t\tif [[ $c == \"$1\"* ]]; then\n"
"\t\t\t[[ -n $found ]] && { echo \"$1\"; return; }\n"
"\t\t\tfound=$c\n"
"\t\tfi\n"
"\tdone\n"
"\techo \"${found:-$1}\"\n"
"}\n"
"\n"
"_cstream()\n"
"{\n"
"\tlocal cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]} opt=\n"
"\tlocal cmd= word kind i=1 npos=0 ddash=0\n"
"\n"
"\tCOMPREPLY=()\n"
"\t# The value of an option: --opt VALUE, --opt=VALUE.\n"
"\tif [[ $cur == = ]]; then\n"
"\t\topt=${COMP_WORDS[cword-1]} cur=\n"
"\telif (( cword > 1 )) && [[ ${COMP_WORDS[cword-1]} == = ]]; then\n"
"\t\topt=${COMP_WORDS[cword-2]}\n"
"\telif [[ $cur == --*=* ]]; then\n"
"\t\topt=${cur%%=*} cur=${cur#*=}\n"
"\tfi\n"
"\n"
"\twhile (( i < cword )); do\n"
"\t\tword=${COMP_WORDS[i]}\n"
"\t\tif (( ddash )) || [[ $word != -* ]]; then\n"
"\t\t\tif [[ -z $cmd ]]; then\n"
"\t\t\t\tcmd=$(_cstream_command \"$word\")\n"
"\t\t\telse\n"
"\t\t\t\t(( npos++ ))\n"
"\t\t\tfi\n"
"\t\telif [[ $word == -- ]]; then\n"
"\t\t\tddash=1\n"
"\t\telse\n"
"\t\t\tkind=$(_cstream_option_kind \"$cmd\" \"$word\")\n"
"\t\t\tif [[ ${COMP_WORDS[i+1]} == = ]]; then\n"
"\t\t\t\t(( i += 2 ))\n"
"\t\t\telif [[ $word != *=* && $kind != none &&"
" $kind != optional ]]; then\n"
"\t\t\t\t(( i++ ))\n"
"\t\t\t\tif (( i == cword )); then\n"
"\t\t\t\t\topt=$word\n"
"\t\t\t\tfi\n"
"\t\t\tfi\n"
"\t\tfi\n"
"\t\t(( i++ ))\n"
"\tdone\n"
"\n"
"\tif [[ -n $opt ]]; then\n"
"\t\tkind=$(_cstream_option_kind \"$cmd\" \"$opt\")\n"
"\t\t_cstream_reply \"$cur\" $kind\n"
"\telif (( !ddash )) && [[ $cur == -* ]]; then\n"
"\t\t_cstream_reply \"$cur\" words $(_cstream_options \"$cmd\")\n"
"\telif [[ -z $cmd ]]; then\n"
"\t\t_cstream_reply \"$cur\" command\n"
"\telse\n"
"\t\t_cstream_reply \"$cur\" \"$(_cstream_arg_kind \"$cmd\" $((npos + 1)))\"\n"
"\tfi\n"
"\treturn 0\n"
"}\n"
"\n"
"complete -F _cstream cstream\n";

static void
completion_bash(void)
{
	printf("# bash completion for cstream(1), written by 'cstream "
	    "--completion bash'\n# from the option tables that --help "
	    "prints: regenerate it, do not edit it.\n\n");
	completion_bash_tables();
	fputs(completion_bash_main, stdout);
}

/* --- zsh ----------------------------------------------------------------- */

/* Print s for inside single quotes, or with the zsh/fish escapes. */
static void
completion_put(const char *s, const char *escape)
{
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else {
			if (strchr(escape, *s) != NULL)
				putchar('\\');
			putchar(*s);
		}
	}
}

/* An argname as a message: "'NAME: VALUE'" -> "name value". */
static void
completion_put_message(const char *argname)
{
	const char	*a;

	for (a = argname; *a != '\0'; a++) {
		if (strchr("'\":[]=\\", *a) == NULL)
			putchar(*a >= 'A' && *a <= 'Z' ? *a - 'A' + 'a' : *a);
	}
}

static void
completion_zsh_action(enum completion_kind k, const char *words)
{
	switch (k) {
	case KIND_FILE:
		fputs("_files", stdout);
		break;
	case KIND_WORDS:
		printf("(%s)", words);
		break;
	case KIND_PROGRAM:
		fputs("_command_names -e", stdout);
		break;
	case KIND_HOST:
		fputs("_hosts", stdout);
		break;
	case KIND_PORT:
		fputs("_cstream_ports", stdout);
		break;
	case KIND_COMMAND:
		fputs("($_cstream_names)", stdout);
		break;
	default:
		fputs(" ", stdout);
		break;
	}
}

/* One _arguments spec: '*'{-k,--insecure}'[help]:msg:action'. */
static void
completion_zsh_option_cb(const struct cmd_entry *e,
    const struct cmd_option *o, void *arg)
{
	char			 words[64];
	enum completion_kind	 k = completion_option_kind(o, words,
				    sizeof words);
	const char		*lsuf = "", *ssuf = "";

	if (o->has_arg == CMD_ARG_REQUIRED) {
		lsuf = "=";
		ssuf = "+";
	} else if (o->has_arg == CMD_ARG_OPTIONAL)
		lsuf = "=-";
	if (o->flag != 0)
		printf("\t\t'*'{-%c%s,--%s%s}'[", o->flag, ssuf, o->name, lsuf);
	else
		printf("\t\t'*--%s%s[", o->name, lsuf);
	completion_put(o->help, "[]\\");
	putchar(']');
	if (k != KIND_NONE) {
		fputs(o->has_arg == CMD_ARG_OPTIONAL ? "::" : ":", stdout);
		completion_put_message(o->argname);
		putchar(':');
		completion_zsh_action(k, words);
	}
	fputs(arg != NULL ? "' \\\n" : "'\n", stdout);
}

static void
completion_zsh_command(const struct cmd_entry *e)
{
	const struct cmd_option	*o;
	enum completion_kind	 k;
	int			 i;

	printf("\t\t(%s)\n\t\t_arguments -s \\\n", e->name);
	for (o = cmd_options(e); o != NULL && o->name != NULL; o++)
		completion_zsh_option_cb(e, o, "continued");
	fputs("\t\t\"${_cstream_globals[@]}\"", stdout);
	for (i = 0; (k = completion_pos_kind(e, i)) != KIND_NONE; i++) {
		printf(" \\\n\t\t'%d:%s:", i + 1, k == KIND_HOST ? "host" :
		    k == KIND_PORT ? "port" : k == KIND_FILE ? "path" :
		    k == KIND_COMMAND ? "command" : "argument");
		completion_zsh_action(k, NULL);
		putchar('\'');
	}
	fputs(" && ret=0 ;;\n", stdout);
}

static const char completion_zsh_main[] =
"\t_arguments -C -s \"${_cstream_globals[@]}\" \\\n"
"\t\t'(- :)--version[print the version]' \\\n"
"\t\t'(- :)--completion=[print a shell completion script]:shell:(bash zsh fish)' \\\n"
"\t\t': :->command' '*:: :->args' && ret=0\n"
"\tcase $state in\n"
"\t(command)\n"
"\t\t_describe -t commands 'cstream command' _cstream_cmds && ret=0 ;;\n"
"\t(args)\n"
"\t\t# A unique prefix of a command is that command (cmd.c).\n"
"\t\tcmd=$words[1]\n"
"\t\tm=(${(M)_cstream_names:#${cmd}*})\n"
"\t\tif (( ! ${_cstream_names[(Ie)$cmd]} && $#m == 1 )); then\n"
"\t\t\tcmd=$m[1]\n"
"\t\tfi\n"
"\t\tcurcontext=${curcontext%:*:*}:cstream-$cmd:\n"
"\t\tcase $cmd in\n";

static void
completion_zsh(void)
{
	const struct cmd_entry *const	*e;
	const struct cmd_option		*o;

	printf("#compdef cstream\n# zsh completion for cstream(1), written "
	    "by 'cstream --completion zsh'\n# from the option tables that "
	    "--help prints: regenerate it, do not edit it.\n\n"
	    "_cstream_ports()\n{\n\tlocal -a ports\n\tports=(${(f)\"$("
	    "awk '$2 ~ /\\/tcp$/ { sub(/\\/tcp$/, \"\", $2); "
	    "print $2 \":\" $1 }' /etc/services 2>/dev/null |\n"
	    "\t    sort -t: -k1,1n -u)\"})\n"
	    "\t_describe -t ports port ports\n}\n\n"
	    "_cstream()\n{\n\tlocal curcontext=$curcontext state "
	    "state_descr line cmd ret=1\n\tlocal -a m _cstream_globals "
	    "_cstream_cmds _cstream_names\n\ttypeset -A opt_args\n\n"
	    "\t_cstream_cmds=(\n");
	for (e = completion_table; *e != NULL; e++) {
		printf("\t\t'%s:", (*e)->name);
		completion_put((*e)->summary, "");
		fputs("'\n", stdout);
	}
	printf("\t)\n\t_cstream_names=(${_cstream_cmds%%%%:*})\n"
	    "\t_cstream_globals=(\n");
	for (o = completion_globals; o->name != NULL; o++)
		completion_zsh_option_cb(NULL, o, NULL);
	printf("\t)\n\n");
	fputs(completion_zsh_main, stdout);
	for (e = completion_table; *e != NULL; e++)
		completion_zsh_command(*e);
	printf("\t\tesac ;;\n\tesac\n\treturn ret\n}\n\n"
	    "if [[ $funcstack[1] == _cstream ]]; then\n\t_cstream \"$@\"\n"
	    "else\n\tcompdef _cstream cstream\nfi\n");
}

/* --- fish ---------------------------------------------------------------- */

static void
completion_fish_option_cb(const struct cmd_entry *e,
    const struct cmd_option *o, void *arg)
{
	char			 words[64];
	enum completion_kind	 k = completion_option_kind(o, words,
				    sizeof words);

	fputs("complete -c cstream", stdout);
	if (e != NULL)
		printf(" -n '__fish_seen_subcommand_from %s'", e->name);
	else if (arg != NULL)
		fputs(" -n __fish_use_subcommand", stdout);
	if (o->flag != 0)
		printf(" -s %c", o->flag);
	printf(" -l %s", o->name);
	if (k == KIND_FILE)
		fputs(" -r -F", stdout);
	else if (k == KIND_WORDS)
		printf(" -x -a '%s'", words);
	else if (k == KIND_PROGRAM)
		fputs(" -x -a '(__fish_complete_command)'", stdout);
	else if (k == KIND_TEXT)
		fputs(" -x", stdout);
	fputs(" -d '", stdout);
	completion_put(o->help, "\\");
	fputs("'\n", stdout);
}

static void
completion_fish_args(const struct cmd_entry *e)
{
	enum completion_kind	k;
	int			i;
	const char		*fn;

	for (i = 0; (k = completion_pos_kind(e, i)) != KIND_NONE; i++) {
		fn = k == KIND_HOST ? "(__fish_print_hostnames)" :
		    k == KIND_PORT ? "(__cstream_ports)" : k == KIND_COMMAND ?
		    "(__cstream_commands)" : NULL;
		if (k == KIND_FILE)
			printf("complete -c cstream -n "
			    "'__fish_seen_subcommand_from %s' -F\n", e->name);
		else if (fn != NULL)
			printf("complete -c cstream -n "
			    "'__fish_seen_subcommand_from %s' -a '%s'\n",
			    e->name, fn);
	}
}

static void
completion_fish(void)
{
	const struct cmd_entry *const	*e;
	const struct cmd_option		*o;

	printf("# fish completion for cstream(1), written by 'cstream "
	    "--completion fish'\n# from the option tables that --help "
	    "prints: regenerate it, do not edit it.\n\n"
	    "function __cstream_ports\n\tawk '$2 ~ /\\/tcp$/ { "
	    "sub(/\\/tcp$/, \"\", $2); print $2 \"\\t\" $1 }' "
	    "/etc/services 2>/dev/null | sort -k1,1n -u\nend\n\n"
	    "function __cstream_commands\n");
	for (e = completion_table; *e != NULL; e++) {
		printf("\techo %s\\t'", (*e)->name);
		completion_put((*e)->summary, "\\");
		fputs("'\n", stdout);
	}
	printf("end\n\ncomplete -c cstream -f\n"
	    "complete -c cstream -n __fish_use_subcommand "
	    "-a '(__cstream_commands)'\n");
	for (o = completion_top_options; o->name != NULL; o++)
		completion_fish_option_cb(NULL, o, "top");
	for (o = completion_globals; o->name != NULL; o++)
		completion_fish_option_cb(NULL, o, NULL);
	for (e = completion_table; *e != NULL; e++) {
		for (o = cmd_options(*e); o != NULL && o->name != NULL; o++)
			completion_fish_option_cb(*e, o, NULL);
		completion_fish_args(*e);
	}
}

int
completion_print(const char *shell, const struct cmd_entry *const *table,
    const struct cmd_option *globals)
{
	completion_table = table;
	completion_globals = globals;
	if (strcmp(shell, "bash") == 0)
		completion_bash();
	else if (strcmp(shell, "zsh") == 0)
		completion_zsh();
	else if (strcmp(shell, "fish") == 0)
		completion_fish();
	else
		return (-1);
	return (fflush(stdout) == 0 ? 0 : -1);
}
