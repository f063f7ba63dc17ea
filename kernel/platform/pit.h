/* The 8254 PIT's ports and input clock, for the tick (timer.c) and for
 * timing the TSC against it (tsc_calibrate.c). */
#ifndef PVCHECK_PIT_H
#define PVCHECK_PIT_H

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43

#endif
