/* Allocation probe for the virtual board: loaded into the MicroPython unix port's process
 * (LD_PRELOAD), it stands in front of the GC allocator's gc_alloc and gc_realloc, which the
 * port calls through its procedure linkage table, and records the size of the largest block
 * asked for in a shared page the host reads and resets between transactions.  The heap, the
 * allocator and the firmware are untouched: every call goes on to the real function.
 *
 * Shared page (host_sim/alloc_probe/__init__.py): uint64 largest, uint64 count.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct probe_page {
    volatile uint64_t largest;
    volatile uint64_t count;
};

typedef void *(*gc_alloc_fn)(size_t n_bytes, unsigned int alloc_flags);
typedef void *(*gc_realloc_fn)(void *ptr, size_t n_bytes, int allow_move);

void *gc_alloc(size_t n_bytes, unsigned int alloc_flags);
void *gc_realloc(void *ptr, size_t n_bytes, int allow_move);

static struct probe_page *page;
static gc_alloc_fn real_alloc;
static gc_realloc_fn real_realloc;

static int find_port(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "micropython") != NULL) {
        void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            void *a = dlsym(h, "gc_alloc");
            if (a != NULL && a != data) {
                real_alloc = (gc_alloc_fn)a;
                real_realloc = (gc_realloc_fn)dlsym(h, "gc_realloc");
                return 1;
            }
        }
    }
    return 0;
}

static void resolve(void) {
    /* the port is a shared object opened by its launcher, not in the global scope:
     * look it up by name among the loaded objects */
    dl_iterate_phdr(find_port, (void *)gc_alloc);
}

__attribute__((constructor)) static void probe_init(void) {
    const char *path = getenv("SMARTPOS_ALLOC_PROBE");
    if (path == NULL) {
        return;
    }
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        return;
    }
    void *m = mmap(NULL, sizeof(struct probe_page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m != MAP_FAILED) {
        page = (struct probe_page *)m;
    }
}

static void note(size_t n) {
    if (page != NULL) {
        page->count++;
        if (n > page->largest) {
            page->largest = n;
        }
    }
}

void *gc_alloc(size_t n_bytes, unsigned int alloc_flags) {
    if (real_alloc == NULL) {
        resolve();
    }
    note(n_bytes);
    return real_alloc(n_bytes, alloc_flags);
}

void *gc_realloc(void *ptr, size_t n_bytes, int allow_move) {
    if (real_realloc == NULL) {
        resolve();
    }
    note(n_bytes);
    return real_realloc(ptr, n_bytes, allow_move);
}
