/* What the backends share besides include/rewind/orchestrator.h. */
#ifndef REWIND_ORCHESTRATOR_INTERNAL_H
#define REWIND_ORCHESTRATOR_INTERNAL_H

#include "rewind/orchestrator.h"
#include "rewind/strmap.h"

/* The constructors, which rw_orchestrator_new knows by name. */
int rw_marathon_new(rw_orchestrator **out, const rw_orchestrator_opts *opts);
int rw_swarm_new(rw_orchestrator **out, const rw_orchestrator_opts *opts);
int rw_git_new(rw_orchestrator **out, const rw_orchestrator_opts *opts);

/* A copy of the explicit mapping (repository -> app id) that the backend owns; NULL gives an empty one. */
rw_strmap *rw_orchestrator_copy_ids(const rw_strmap *app_ids);

#endif
