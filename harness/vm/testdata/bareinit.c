/* The minimal init of the boot benchmark's baseline: end QEMU at once through isa-debug-exit,
 * the same way gpiohil's agent does, with nothing else in between. */
#include <fcntl.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void) {
	int fd = open("/dev/port", O_WRONLY);
	if (fd >= 0) {
		char c = 0;
		pwrite(fd, &c, 1, 0xf4);
	}
	reboot(RB_AUTOBOOT);
	for (;;) pause();
}
