/*
 * The one program of the test images (tests/helpers/dockerd.py), built with
 * `gcc -static` so that an image needs nothing else:
 *
 *   idle            sleeps until SIGTERM or SIGINT, then exits 0 (as PID 1 of
 *                   a container it must handle the signal itself, or
 *                   `docker service update` waits the whole stop grace period)
 *   idle exit N     exits at once with status N (a deploy that fails)
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void stop(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	signal(SIGTERM, stop);
	signal(SIGINT, stop);
	for (;;)
		pause();
}
