/* lb/select.h: the selection methods of the L4 balancer: maglev, modulo, rendezvous (highest random weight). */
#ifndef NATLB_LB_SELECT_H
#define NATLB_LB_SELECT_H

#include "lb/select-t.h"

/* Every method this build knows; the first is the default. */
const struct lb_select_ops *const *lb_select_methods(unsigned *n);
const struct lb_select_ops *lb_select_find(const char *name);

/* How many of the hashes 0 .. samples-1 two builds of one method send to different targets.  For
 * Maglev with samples = M that is exactly the lookup-table slots that changed; for the others it
 * is the same question asked of M evenly spread hash values. */
uint32_t lb_select_changed(const struct lb_select_ops *ops, const void *a, const void *b, uint32_t samples);

#endif
