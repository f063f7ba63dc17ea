/* Copies an image, zeroing the multiboot1 magic in its first 8 KiB, so that
 * QEMU's -kernel falls through to the PVH entry of the very same code. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    static unsigned char buf[1 << 20];
    if (argc != 3) {
        fprintf(stderr, "usage: strip_mb1 IN OUT\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    size_t n = fread(buf, 1, sizeof(buf), in);
    int too_big = !feof(in);
    fclose(in);
    if (too_big) {
        fprintf(stderr, "%s: larger than %zu bytes\n", argv[1], sizeof(buf));
        return 2;
    }
    int found = 0;
    for (size_t off = 0; off + 4 <= n && off < 8192; off += 4) {
        uint32_t v;
        memcpy(&v, buf + off, 4);
        if (v == 0x1BADB002u) {
            memset(buf + off, 0, 4);
            found = 1;
            break;
        }
    }
    if (!found) {
        fprintf(stderr, "%s: no multiboot1 magic in the first 8 KiB\n", argv[1]);
        return 1;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out || fwrite(buf, 1, n, out) != n || fclose(out) != 0) {
        perror(argv[2]);
        return 2;
    }
    return 0;
}
