/* mbedTLS heap probe for the virtual board: loaded into the MicroPython unix port's process
 * (LD_PRELOAD), it stands in front of calloc and free.  On the unix port mbedTLS takes its
 * memory with calloc from the C library; on a board (MICROPY_MBEDTLS_CONFIG_BARE_METAL) the
 * same requests go to the GC heap through m_tracked_calloc.  The probe counts the calloc
 * requests made from the port's own code (mbedTLS is the only user of calloc there) and
 * their frees: live bytes, the peak of live bytes, the largest block, and the number of
 * requests, in a page shared with the host.  Every call goes on to the C library unchanged.
 *
 * Shared page (host_sim/tls_probe/__init__.py): uint64 live, peak, largest, count.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct probe_page {
    volatile uint64_t live;
    volatile uint64_t peak;
    volatile uint64_t largest;
    volatile uint64_t count;
};

#define SLOTS 4096
static void *tracked[SLOTS];
static size_t tracked_size[SLOTS];
static struct probe_page *page;
static uintptr_t port_lo, port_hi;
static void *(*real_calloc)(size_t, size_t);
static void (*real_free)(void *);
static int in_init;

static int find_port(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size; (void)data;
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "micropython") != NULL) {
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
                port_lo = info->dlpi_addr + ph->p_vaddr;
                port_hi = port_lo + ph->p_memsz;
                return 1;
            }
        }
    }
    return 0;
}

static void attach(void) {
    const char *path = getenv("SMARTPOS_TLS_PROBE");
    if (path == NULL || page != NULL) {
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

/* dlsym may itself call calloc: serve that from a static buffer */
static char boot_buf[4096];
static size_t boot_used;

void *calloc(size_t n, size_t size) {
    if (real_calloc == NULL) {
        if (in_init) {
            size_t want = (n * size + 15) & ~(size_t)15;
            if (boot_used + want > sizeof boot_buf) {
                return NULL;
            }
            void *p = boot_buf + boot_used;
            boot_used += want;
            return p;
        }
        in_init = 1;
        real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
        real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
        in_init = 0;
    }
    void *p = real_calloc(n, size);
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    if (port_hi == 0) {
        dl_iterate_phdr(find_port, NULL);
    }
    attach();
    if (p != NULL && page != NULL && caller >= port_lo && caller < port_hi) {
        size_t bytes = n * size;
        for (int i = 0; i < SLOTS; i++) {
            if (tracked[i] == NULL) {
                tracked[i] = p;
                tracked_size[i] = bytes;
                break;
            }
        }
        page->count++;
        page->live += bytes;
        if (page->live > page->peak) {
            page->peak = page->live;
        }
        if (bytes > page->largest) {
            page->largest = bytes;
        }
    }
    return p;
}

void free(void *p) {
    if (p == NULL) {
        return;
    }
    if ((char *)p >= boot_buf && (char *)p < boot_buf + sizeof boot_buf) {
        return;
    }
    if (real_free == NULL) {
        real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    }
    if (page != NULL) {
        for (int i = 0; i < SLOTS; i++) {
            if (tracked[i] == p) {
                tracked[i] = NULL;
                page->live -= tracked_size[i];
                break;
            }
        }
    }
    real_free(p);
}
