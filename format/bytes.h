/* vhdboot: byte helpers and explicit endian loads/stores for on-disk fields. */
#ifndef VB_BYTES_H
#define VB_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void vb_memcpy(void *dst, const void *src, size_t n);
void vb_memset(void *dst, int value, size_t n);
int vb_memcmp(const void *a, const void *b, size_t n);
size_t vb_strlen(const char *s);
/* Whether two NUL-terminated strings are equal ignoring ASCII case (paths,
 * labels and keywords on FAT/NTFS volumes compare this way). */
bool vb_ascii_caseeq(const char *a, const char *b);
/* Orders two strings ignoring ASCII case: <0, 0 or >0 like strcmp. */
int vb_ascii_casecmp(const char *a, const char *b);
/* The lowercase of an ASCII letter; any other byte unchanged. */
char vb_ascii_lower(char c);
/* Copies src into dst (capacity cap, always terminated); returns the length copied. */
size_t vb_strlcpy(char *dst, const char *src, size_t cap);

static inline uint16_t vb_be16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t vb_be32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static inline uint64_t vb_be64(const void *p) { const uint8_t *b = p; return (uint64_t)vb_be32(b) << 32 | vb_be32(b + 4); }
static inline uint16_t vb_le16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t vb_le32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static inline uint64_t vb_le64(const void *p) { const uint8_t *b = p; return (uint64_t)vb_le32(b + 4) << 32 | vb_le32(b); }
static inline void vb_put_be16(void *p, uint16_t v) { uint8_t *b = p; b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void vb_put_be32(void *p, uint32_t v) { uint8_t *b = p; b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v; }
static inline void vb_put_be64(void *p, uint64_t v) { vb_put_be32(p, (uint32_t)(v >> 32)); vb_put_be32((uint8_t *)p + 4, (uint32_t)v); }
static inline void vb_put_le16(void *p, uint16_t v) { uint8_t *b = p; b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static inline void vb_put_le32(void *p, uint32_t v) { uint8_t *b = p; b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24); }

#endif
