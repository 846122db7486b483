/* Benchmark baseline: the least a C program can do for one vzcptcheck call,
 * one open(2) and one ioctl(2) on /proc/cpt, printing the answer. Run under
 * the same LD_PRELOAD interposer as dist/vzcptcheck so both pay the same. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define CPT_TEST_VERSION 0x40042d1aU

int main(void)
{
	int fd = open("/proc/cpt", O_RDWR);
	if (fd < 0) {
		perror("open /proc/cpt");
		return 1;
	}
	int r = ioctl(fd, CPT_TEST_VERSION, 0);
	close(fd);
	printf("%d\n", r);
	return r > 0 ? 0 : 1;
}
