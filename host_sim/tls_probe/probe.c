/* mbedTLS heap probe for the virtual board: loaded into the MicroPython unix port's process
 * (LD_PRELOAD), it stands in front of calloc and free.  On the unix port mbedTLS takes its
 * memory with calloc from the C library; on a board (MICROPY_MBEDTLS_CONFIG_BARE_METAL) the
 * same requests go to the GC heap through m_tracked_calloc.  The probe counts the calloc
 * requests made from the port's own code (mbedTLS is the only user of calloc there) and
 * their frees: live bytes, the peak of live bytes, the largest block, and the number of
 * requests, in a page shared with the host.  Every call goes on to the C library unchanged.
 *
 * With SMARTPOS_TLS_ON_HEAP=1 it also does what the board's m_tracked_calloc does: those
 * requests are served from the MicroPython GC heap (gc_alloc, with the two-pointer node
 * header m_tracked_calloc puts in front) and kept alive across collections (the blocks are
 * marked as roots right after gc_collect_start, as the board marks its tracked list), and
 * their frees go back with gc_free.  The virtual board's heap then pays for TLS as a board's
 * does: the 16.7 KB receive record must find one free block of that size.
 *
 * Shared page (host_sim/tls_probe/__init__.py): uint64 live, peak, largest, count, failed
 * (requests the GC heap could not serve, on-heap mode).
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
    volatile uint64_t failed;
};

#define SLOTS 4096
static void *tracked[SLOTS];          /* what the caller got */
static size_t tracked_size[SLOTS];
static void *gc_block[SLOTS];         /* on-heap mode: the GC block behind it (the roots) */
static const char *port_path;
static int n_tracked;                 /* entries in use: frees skip the search when none are */
static int on_heap = -1;
#define NODE (2 * sizeof(void *))     /* m_tracked_node_t: prev, next */
static void *(*mp_gc_alloc)(size_t, unsigned int);
static void (*mp_gc_free)(void *);
static void (*mp_gc_collect_root)(void **, size_t);
static void (*mp_gc_collect_start)(void);
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
                port_path = info->dlpi_name;
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

static void find_port_once(void) {
    if (port_hi == 0) {
        dl_iterate_phdr(find_port, NULL);
    }
    if (on_heap < 0) {
        const char *v = getenv("SMARTPOS_TLS_ON_HEAP");
        on_heap = v != NULL && v[0] == '1';
    }
}

/* The port's own GC functions (not this probe's gc_collect_start).  Only called once the
 * port's code runs: the library is loaded in full by then. */
static int binding;

static void bind_port(void) {
    if (binding || mp_gc_collect_start != NULL) {
        return;
    }
    binding = 1;
    find_port_once();
    if (port_path != NULL) {
        void *h = dlopen(port_path, RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            mp_gc_alloc = (void *(*)(size_t, unsigned int))dlsym(h, "gc_alloc");
            mp_gc_free = (void (*)(void *))dlsym(h, "gc_free");
            mp_gc_collect_root = (void (*)(void **, size_t))dlsym(h, "gc_collect_root");
            mp_gc_collect_start = (void (*)(void))dlsym(h, "gc_collect_start");
        }
    }
    binding = 0;
}

/* The port's gc_collect calls gc_collect_start through its PLT: this definition comes first.
 * After the real one, the tracked blocks are marked (the board's m_tracked list is a root). */
void gc_collect_start(void) {
    bind_port();
    mp_gc_collect_start();
    if (on_heap == 1) {
        mp_gc_collect_root(gc_block, SLOTS);
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
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    find_port_once();
    attach();
    int from_port = caller >= port_lo && caller < port_hi;
    if (!from_port || page == NULL) {
        return real_calloc(n, size);
    }
    if (on_heap == 1) {
        bind_port();
    }
    size_t bytes = n * size;
    void *p, *block = NULL;
    if (on_heap == 1 && mp_gc_alloc != NULL && mp_gc_collect_root != NULL) {
        block = mp_gc_alloc(NODE + bytes, 0);
        if (block == NULL) {
            page->failed++;
            return NULL;
        }
        memset(block, 0, NODE + bytes);
        p = (char *)block + NODE;
    } else {
        p = real_calloc(n, size);
    }
    if (p != NULL) {
        int i;
        for (i = 0; i < SLOTS; i++) {
            if (tracked[i] == NULL) {
                tracked[i] = p;
                tracked_size[i] = bytes;
                gc_block[i] = block;
                n_tracked++;
                break;
            }
        }
        if (i == SLOTS && block != NULL) {    /* not rooted: the GC would take it back */
            mp_gc_free(block);
            page->failed++;
            return NULL;
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
    if (page != NULL && n_tracked > 0) {
        for (int i = 0; i < SLOTS; i++) {
            if (tracked[i] == p) {
                void *block = gc_block[i];
                n_tracked--;
                tracked[i] = NULL;
                gc_block[i] = NULL;
                page->live -= tracked_size[i];
                if (block != NULL) {
                    mp_gc_free(block);       /* a no-op while the GC is locked: swept at the next collection */
                    return;
                }
                break;
            }
        }
    }
    real_free(p);
}
