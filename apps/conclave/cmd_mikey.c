/* placeholder until the decoder lands */
#include "cmds.h"
#include <stdio.h>
int cmd_mikey(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "mikey: not built yet\n");
	return 1;
}
