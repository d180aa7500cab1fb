/*
 * checkpoint.c -- WAL checkpoints on a thread of their own (see
 * kms_db_background_checkpoint). In WAL mode with synchronous=NORMAL a
 * commit only appends to the log; the fsync happens at checkpoints. Run
 * inline, an automatic checkpoint stalls the request that triggered it
 * (milliseconds on a busy disk) and every request queued behind it. A
 * passive checkpoint on a separate connection never blocks writers.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct kdb_checkpointer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	unsigned interval_ms;
	sqlite3 *sql;
};

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *run(void *arg)
{
	struct kdb_checkpointer *cp = arg;
	struct timespec ts;

	pthread_mutex_lock(&cp->lock);
	while (!cp->stop) {
		deadline(&ts, cp->interval_ms);
		while (!cp->stop && pthread_cond_timedwait(&cp->cond, &cp->lock,
							   &ts) != ETIMEDOUT)
			;
		if (cp->stop)
			break;
		pthread_mutex_unlock(&cp->lock);
		/* a busy or failed checkpoint is retried next interval */
		if (sqlite3_wal_checkpoint_v2(cp->sql, NULL,
					      SQLITE_CHECKPOINT_PASSIVE, NULL,
					      NULL) != SQLITE_OK) {
		}
		pthread_mutex_lock(&cp->lock);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

enum cc_err ksq_background_checkpoint(struct kms_db *db, unsigned interval_ms)
{
	struct kdb_checkpointer *cp;
	enum cc_err err;

	if (!db || db->cp || !interval_ms)
		return CC_ERR_INVAL;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return CC_ERR_NOMEM;
	cp->interval_ms = interval_ms;
	err = kdb_err(sqlite3_open_v2(
		db->path, &cp->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
		NULL));
	if (!err)
		sqlite3_busy_timeout(cp->sql, 1000);
	if (!err)
		err = kdb_exec(db, "PRAGMA wal_autocheckpoint = 0");
	if (!err && (pthread_mutex_init(&cp->lock, NULL) ||
		     pthread_cond_init(&cp->cond, NULL)))
		err = CC_ERR_NOMEM;
	if (!err && pthread_create(&cp->thread, NULL, run, cp))
		err = CC_ERR_NOMEM;
	if (err) {
		sqlite3_close(cp->sql);
		free(cp);
		return err;
	}
	db->cp = cp;
	return CC_OK;
}

void kdb_checkpointer_stop(struct kms_db *db)
{
	struct kdb_checkpointer *cp = db->cp;

	if (!cp)
		return;
	pthread_mutex_lock(&cp->lock);
	cp->stop = true;
	pthread_cond_signal(&cp->cond);
	pthread_mutex_unlock(&cp->lock);
	pthread_join(cp->thread, NULL);
	pthread_cond_destroy(&cp->cond);
	pthread_mutex_destroy(&cp->lock);
	sqlite3_close(cp->sql);
	free(cp);
	db->cp = NULL;
}
