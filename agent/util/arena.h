/* arena.h: a chunked bump allocator whose pointers stay valid until reset.
 *
 * Decoded values (converted text, decimal digits, JSON rendered from MySQL's binary form)
 * live for one row; the decoder resets the arena per row, so a row of any width costs one
 * reset instead of many frees. Chunks are kept across resets; `max` caps the total. */
#ifndef BT_ARENA_H
#define BT_ARENA_H

#include <stddef.h>

typedef struct bt_arena_chunk {
    struct bt_arena_chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} bt_arena_chunk_t;

typedef struct bt_arena {
    bt_arena_chunk_t *head;   /* chunk being filled */
    bt_arena_chunk_t *spare;  /* chunks kept from before the last reset */
    size_t total;             /* bytes handed out since reset */
    size_t max;               /* cap on total; 0 = 1 GiB */
} bt_arena_t;

void bt_arena_init(bt_arena_t *a, size_t max);
/* n bytes, 8-aligned, or NULL when the cap is reached or memory is short. */
void *bt_arena_alloc(bt_arena_t *a, size_t n);
/* Copy of n bytes plus a NUL terminator. */
char *bt_arena_dup(bt_arena_t *a, const void *p, size_t n);
void bt_arena_reset(bt_arena_t *a);
void bt_arena_free(bt_arena_t *a);

#endif
