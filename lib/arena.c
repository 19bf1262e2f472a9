/* arena.c: chunked bump allocator (see arena.h). */
#include "lib/lib.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)

void bt_arena_init(bt_arena_t *a, size_t max) {
    memset(a, 0, sizeof *a);
    a->max = max ? max : (size_t)1 << 30;
}

static bt_arena_chunk_t *take_chunk(bt_arena_t *a, size_t need) {
    /* Reuse a spare chunk when it is big enough; otherwise allocate one. */
    bt_arena_chunk_t **pp = &a->spare;
    while (*pp) {
        if ((*pp)->size >= need) {
            bt_arena_chunk_t *c = *pp;
            *pp = c->next;
            c->used = 0;
            return c;
        }
        pp = &(*pp)->next;
    }
    size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
    bt_arena_chunk_t *c = malloc(sizeof *c + size);
    if (!c) return NULL;
    c->used = 0;
    c->size = size;
    return c;
}

void *bt_arena_alloc(bt_arena_t *a, size_t n) {
    size_t need = (n + 7) & ~(size_t)7;
    if (need < n || a->total + need > a->max) return NULL;
    bt_arena_chunk_t *c = a->head;
    if (!c || c->size - c->used < need) {
        c = take_chunk(a, need);
        if (!c) return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

char *bt_arena_dup(bt_arena_t *a, const void *p, size_t n) {
    char *d = bt_arena_alloc(a, n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, p, n);
    d[n] = 0;
    return d;
}

void bt_arena_reset(bt_arena_t *a) {
    /* Move every chunk to the spare list; big one-off chunks are freed so that one huge row
     * does not pin its memory for the rest of the run. */
    bt_arena_chunk_t *c = a->head;
    while (c) {
        bt_arena_chunk_t *next = c->next;
        if (c->size > 16 * ARENA_CHUNK) {
            free(c);
        } else {
            c->next = a->spare;
            a->spare = c;
        }
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}

void bt_arena_free(bt_arena_t *a) {
    bt_arena_reset(a);
    bt_arena_chunk_t *c = a->spare;
    while (c) {
        bt_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->spare = NULL;
}
