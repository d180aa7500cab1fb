/* placeholder until the bench lands */
#include "cmds.h"
#include <stdio.h>
int cmd_bench(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "bench: not built yet\n");
	return 1;
}
