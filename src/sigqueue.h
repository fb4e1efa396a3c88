/*
 * sigqueue.h — between the signal handler (signal.c) and os/signal
 * delivery (sigqueue.c).
 */
#ifndef GORT_SIGQUEUE_H
#define GORT_SIGQUEUE_H

#include <stdbool.h>

#define sigqueue_wanted gort_sigqueue_wanted
#define sigqueue_send gort_sigqueue_send
#define signal_enable gort_signal_enable
#define signal_disable gort_signal_disable
#define signal_ignore gort_signal_ignore_one
#define signal_reset gort_signal_reset_one
#define signal_is_ignored gort_signal_is_ignored

/* Async-signal-safe: some channel is notified of sig. */
bool sigqueue_wanted(int sig);
/* Async-signal-safe: queues sig for delivery. */
void sigqueue_send(int sig);

/* signal.c, under sigqueue.c's lock: dispositions. */
void signal_enable(int sig);  /* gort's handler, for Notify */
void signal_disable(int sig); /* what it was before Notify */
void signal_ignore(int sig);
void signal_reset(int sig);
bool signal_is_ignored(int sig);

#endif
