/* SPDX-License-Identifier: MIT */
/* parkit resize: batch thumbnails, the tutorials' closing question ("resize 1000 images:
 * threads or processes?") answered with both. The images flow through an io/ pipeline whose
 * bounded queues cap the decoded images alive at any time: decode (JPEG shrunk in the DCT
 * domain when the box allows it, EXIF orientation applied, the pixel budget checked from the
 * header before any pixel is allocated) -> resample (separable, antialiased; kernels/resample.c)
 * -> write (encode under a temporary name renamed when complete, then read back). Each stage has
 * --workers threads; images enter largest first so that a few big ones do not end the run alone;
 * a single image gets all the threads for its resample. Under mpirun each rank takes a share of
 * the images balanced by their pixel counts (from the headers), and rank 0 reports the total.
 *
 * Verified: the smallest image of each rank (every image with --check-all) is also resampled by
 * the float64 reference and must agree within one level of 255; every written file is read back
 * and must have the planned size. */
#include "commands.h"
#include "emit.h"
#include "memcheck.h"
#include "interrupt.h"
#include "opt.h"
#include "parkit/atomicfile.h"
#include "parkit/dirlist.h"
#include "parkit/image.h"
#include "parkit/outdir.h"
#include "parkit/pipeline.h"
#include "parkit/resample.h"
#include "record.h"
#include "sysinfo.h"
#include "timing.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char description[] =
    "INPUT: image files, or directories (their .jpg .jpeg .png .ppm .pgm .pnm files, sorted by\n"
    "name; --recursive for subdirectories). Thumbnails go to DIR/<name>.<ext>. With -t, the\n"
    "threads of the resample when there is a single image.\n"
    "\n"
    "A file that cannot be read, decoded or written is reported with its reason and skipped;\n"
    "the others are done and the exit status is 1. Output files are written under a temporary\n"
    "name and renamed when complete, so an interrupted run leaves no partial file. Verified:\n"
    "the smallest image is also resampled by a float64 reference (within 1 level of 255) and\n"
    "every written file is read back. A batch runs once: jobs/bench-resize.sh repeats it.\n";

/* --size WxH: the text as given (first, so that it is the option's destination), then the box. */
struct size_opt {
    const char *text;
    int w, h;
};

/* --format: the text as given (first, as above), then the images' format (PK_IMAGE_UNKNOWN:
 * the same as the input). */
struct image_format_opt {
    const char *text;
    enum pk_image_format f;
};

struct resize_opts {
    const char *out;
    struct size_opt size;
    bool fill, exact, no_shrink, force, recursive, linear, check_all, lenient;
    double reducing_gap;
    int filter; /* enum pk_filter: an index into filter_names */
    struct image_format_opt format;
    int quality, workers;
    int output_format; /* enum pk_format, stdout's (--format is the images' format here) */
    uint64_t max_pixels;
    struct pk_common_opts common;
};

/* Where an image stands. Every rank lists every image; the owner's copy moves on through the
 * run, and gather() then gives every rank the owners' outcomes. */
enum item_state {
    ITEM_QUEUED,   /* header read, within the budget: its rank resizes it */
    ITEM_REFUSED,  /* refused before the run (header, budget, output name): rank 0 owns it */
    ITEM_DONE,     /* written and read back */
    ITEM_FAILED,   /* failed in a stage: its error says why */
    ITEM_NOT_DONE, /* an interrupt came first */
};

struct item {
    char *path;
    const char *name; /* base name without extension, inside path */
    size_t name_len;
    uint64_t pixels; /* from the header; 0 when refused */
    struct pk_image_info info;
    int rank; /* which rank resizes it */
    /* results */
    enum item_state state;
    char error[320];
    int out_w, out_h;
    double seconds;
    char *dest; /* DIR/<name>.<ext> */
    enum pk_image_format out_format;
    bool verified_ref; /* this one was checked against the float64 reference */
    double max_err, psnr;
};

/* One image on its way through the pipeline; the stages hand it on, never copy it. */
struct job {
    const struct resize_opts *o;
    struct item *it;
    int nthreads;   /* OpenMP threads for the resample: 1, or -t for a lone image */
    bool check_ref; /* also resample with the float64 reference and compare */
    double t0;
    struct pk_image in, out;
    struct pk_box box; /* the part of in that becomes out */
};

/* What the stages share: the images in order (the source has one worker, so `next` needs no
 * lock) and the progress line (several writers: under the lock). */
struct run {
    struct job *jobs;
    size_t n, next, written;
    bool tty;
    double t0;
    pthread_mutex_t lock;
};

static const char *const filter_names[] = {"nearest",  "bilinear", "bicubic",
                                           "mitchell", "lanczos3", NULL};

static bool image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".pnm"};
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return true;
    return false;
}

struct list {
    struct item *v;
    size_t n, cap;
};

static int add_item(struct list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct item *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return PK_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    struct item *it = &l->v[l->n];
    *it = (struct item){.path = strdup(path)};
    if (!it->path)
        return PK_ENOMEM;
    const char *base = strrchr(it->path, '/');
    it->name = base ? base + 1 : it->path;
    const char *dot = strrchr(it->name, '.');
    it->name_len = dot && dot != it->name ? (size_t)(dot - it->name) : strlen(it->name);
    l->n++;
    return PK_OK;
}

/* Adds the image files of dir (sorted by io/dirlist, so every rank sees the same list). */
static int scan_dir(struct list *l, const char *dir, bool recursive, struct pk_err *err)
{
    struct pk_dirlist names = {0};
    int e = pk_dirlist_read(dir, NULL, false, &names);
    int rc = e == 0 ? PK_OK
             : e == ENOMEM
                 ? pk_fail(err, PK_ENOMEM, "out of memory listing '%s'", dir)
                 : pk_fail(err, PK_EINVAL, "cannot open directory '%s': %s", dir, strerror(e));
    for (size_t i = 0; rc == PK_OK && i < names.n; i++) {
        char path[4096];
        struct stat st;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names.name[i]) >= sizeof path ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && recursive)
            rc = scan_dir(l, path, true, err);
        else if (S_ISREG(st.st_mode) && image_ext(names.name[i]))
            rc = add_item(l, path);
    }
    pk_dirlist_free(&names);
    return rc;
}

/* The .check of --size: the text is in size->text (its first member); fills in the box. */
static int check_size(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    struct size_opt *size = opt->dest;
    /* digits only, read with strtoul: sscanf's %d wraps 4294967306 to 10 */
    const char *x = strchr(text, 'x');
    size_t lw = x ? (size_t)(x - text) : 0, lh = x ? strlen(x + 1) : 0;
    bool digits = lw > 0 && lw <= 5 && strspn(text, "0123456789") == lw && lh > 0 && lh <= 5 &&
                  strspn(x + 1, "0123456789") == lh;
    unsigned long w = digits ? strtoul(text, NULL, 10) : 0,
                  h = digits ? strtoul(x + 1, NULL, 10) : 0;
    size->w = (int)w;
    size->h = (int)h;
    if (!digits || w < 1 || h < 1 || w > 65535 || h > 65535)
        return pk_fail(err, PK_EINVAL, "--size expects WxH with W and H in 1..65535, got '%s'",
                       text);
    return PK_OK;
}

/* Output size and the crop of the input for the chosen mode. */
static int fit_box(const struct resize_opts *o, int in_w, int in_h, struct pk_rect *crop, int *w,
                   int *h)
{
    *crop = (struct pk_rect){0, 0, (uint32_t)in_w, (uint32_t)in_h};
    uint32_t ow = (uint32_t)o->size.w, oh = (uint32_t)o->size.h;
    int rc = PK_OK;
    if (o->fill)
        rc = pk_resample_fill((uint32_t)in_w, (uint32_t)in_h, ow, oh, crop);
    else if (!o->exact && (uint32_t)in_w <= ow && (uint32_t)in_h <= oh)
        ow = (uint32_t)in_w, oh = (uint32_t)in_h; /* a thumbnail never enlarges, as Pillow's */
    else if (!o->exact)
        rc = pk_resample_fit((uint32_t)in_w, (uint32_t)in_h, ow, oh, &ow, &oh);
    *w = (int)ow;
    *h = (int)oh;
    return rc;
}

static double psnr_of(const struct pk_image *a, const struct pk_image *b, double *max_err)
{
    double se = 0;
    *max_err = 0;
    size_t n = 0;
    for (uint32_t y = 0; y < (uint32_t)a->height; y++)
        for (size_t x = 0; x < (size_t)a->width * (size_t)a->channels; x++, n++) {
            double d = (double)a->pixels[y * a->stride + x] - b->pixels[y * b->stride + x];
            se += d * d;
            *max_err = fabs(d) > *max_err ? fabs(d) : *max_err;
        }
    return se > 0 ? 10 * log10(255.0 * 255.0 / (se / (double)n)) : 99.0; /* as quality.py */
}

static void set_state(struct item *it, enum item_state state, const char *msg)
{
    it->state = state;
    snprintf(it->error, sizeof it->error, "%s", msg);
}

static bool still_to_do(struct job *j, const char *stage)
{
    if (j->it->state != ITEM_QUEUED)
        return false; /* failed in an earlier stage: passed on to be counted */
    if (!pk_interrupted())
        return true;
    char msg[64];
    snprintf(msg, sizeof msg, "interrupted before %s", stage);
    set_state(j->it, ITEM_NOT_DONE, msg);
    return false;
}

static void job_release(void *arg)
{
    struct job *j = arg;
    pk_image_free(&j->in);
    pk_image_free(&j->out);
}

/* Source: the images of this rank, largest first; an interrupt ends the stream. */
static int next_image(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct run *r = ctx;
    (void)in;
    (void)err;
    if (r->next == r->n || pk_interrupted())
        return PK_ECLOSED;
    *out = &r->jobs[r->next++];
    return PK_OK;
}

/* Read and decode (JPEG shrunk on load as far as the box allows), then crop for the plan.
 * A file's failure is recorded in its item, which goes on; it never stops the pipeline. */
static int decode_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct job *j = *out = in;
    const struct resize_opts *o = j->o;
    (void)ctx;
    (void)err;
    if (!still_to_do(j, "decoding"))
        return PK_OK;
    j->t0 = pk_now_s();
    struct pk_err e = {0};
    struct pk_load_opts lo = {.max_pixels = o->max_pixels,
                              .target_w = o->no_shrink ? 0 : o->size.w,
                              .target_h = o->no_shrink ? 0 : o->size.h,
                              /* exact stretches each axis on its own: shrink by the smaller */
                              .fill = o->fill || o->exact,
                              .shrink_safety = o->reducing_gap,
                              .apply_orientation = true,
                              .lenient = o->lenient};
    struct pk_image_info info;
    int rc = pk_image_load_info(j->it->path, &lo, &j->in, &info, &e);
    /* The plan is made on the picture's own size; a JPEG decoded at 1/d is then resampled
     * from the matching (possibly fractional) box, so shrink-on-load moves nothing. */
    bool swap = info.orientation >= 5;
    int pw = swap ? info.height : info.width, ph = swap ? info.width : info.height;
    struct pk_rect crop;
    if (rc == PK_OK && (rc = fit_box(o, pw, ph, &crop, &j->it->out_w, &j->it->out_h)) != PK_OK)
        pk_fail(&e, rc, "%s: cannot fit %dx%d into %dx%d", j->it->path, pw, ph, o->size.w, o->size.h);
    if (rc == PK_OK) {
        struct pk_box all = pk_image_source_box(&info, true);
        double d = info.scale_denom;
        j->box = (struct pk_box){all.x0 + crop.x / d, all.y0 + crop.y / d,
                                 all.x0 + (crop.x + crop.width) / d,
                                 all.y0 + (crop.y + crop.height) / d};
    }
    if (rc != PK_OK) {
        set_state(j->it, ITEM_FAILED, e.msg[0] ? e.msg : pk_strerror(rc));
        job_release(j);
    } else if (info.corrupt_warnings > 0) {
        /* kept for say_failures: an item that ends done says its warning there */
        snprintf(j->it->error, sizeof j->it->error,
                 "'%s': corrupt JPEG data accepted (--lenient): %d %s, the first: %s", j->it->path,
                 info.corrupt_warnings, info.corrupt_warnings == 1 ? "warning" : "warnings",
                 info.warning);
    }
    return PK_OK;
}

/* Resample, and for the chosen images compare with the float64 reference. */
static int resample_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct job *j = *out = in;
    struct item *it = j->it;
    (void)ctx;
    (void)err;
    if (!still_to_do(j, "resampling")) {
        job_release(j);
        return PK_OK;
    }
    int w = it->out_w, h = it->out_h;
    j->out = (struct pk_image){.width = w, .height = h, .channels = j->in.channels};
    j->out.stride = (size_t)w * (size_t)j->in.channels;
    j->out.pixels = malloc(j->out.stride * (size_t)h);
    int rc = j->out.pixels
                 ? pk_resample_box(&j->in, j->box, &j->out, j->o->filter, j->nthreads, j->o->linear)
                 : PK_ENOMEM;
    if (rc == PK_OK && j->check_ref) {
        struct pk_image ref = j->out;
        ref.pixels = malloc(j->out.stride * (size_t)h);
        rc = ref.pixels ? pk_resample_ref_box(&j->in, j->box, &ref, j->o->filter, j->o->linear)
                        : PK_ENOMEM;
        if (rc == PK_OK) {
            it->psnr = psnr_of(&j->out, &ref, &it->max_err);
            it->verified_ref = true;
        }
        free(ref.pixels);
    }
    pk_image_free(&j->in); /* the decoded image is done with */
    if (rc != PK_OK) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: resampling failed: %s", it->path, pk_strerror(rc));
        set_state(it, ITEM_FAILED, msg);
        pk_image_free(&j->out);
    }
    return PK_OK;
}

/* Encode under a temporary name renamed when complete, then read the file back. */
static int write_stage(void *ctx, void *in, void **out, struct pk_err *err)
{
    struct run *r = ctx;
    struct job *j = in;
    struct item *it = j->it;
    *out = NULL; /* the last stage: items belong to the run */
    (void)err;
    if (still_to_do(j, "writing")) {
        struct pk_err e = {0};
        struct pk_image back = {0};
        struct pk_load_opts plain = {.max_pixels = UINT64_MAX};
        int rc = pk_image_save(it->dest, &j->out, it->out_format, j->o->quality, j->o->force, &e);
        if (rc == PK_OK && (rc = pk_image_load(it->dest, &plain, &back, &e)) == PK_OK &&
            ((int)back.width != it->out_w || (int)back.height != it->out_h))
            rc = pk_fail(&e, PK_EIO, "%s: read back as %dx%d, wrote %dx%d", it->dest,
                         (int)back.width, (int)back.height, it->out_w, it->out_h);
        pk_image_free(&back);
        if (rc == PK_OK)
            it->state = ITEM_DONE;
        else
            set_state(it, ITEM_FAILED, e.msg[0] ? e.msg : pk_strerror(rc));
        it->seconds = pk_now_s() - j->t0;
    }
    job_release(j);
    pthread_mutex_lock(&r->lock);
    r->written++;
    if (r->tty)
        fprintf(stderr, "\rparkit resize: %zu of %zu %s, %.1f s", r->written, r->n,
                pk_plural(r->n, "image", "images"), pk_now_s() - r->t0);
    pthread_mutex_unlock(&r->lock);
    return PK_OK;
}

static int cmp_dest(const void *a, const void *b)
{
    const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
    int c = strcmp(x->dest, y->dest);
    return c ? c : strcmp(x->path, y->path);
}

/* Names every output DIR/<name>.<ext>; of inputs that would write the same file (a.jpg and
 * a.png to png), the first by path keeps it and the others fail, the same on every rank. */
static int name_outputs(const struct resize_opts *o, struct item **order, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct item *it = order[i];
        enum pk_image_format f = o->format.f;
        if (f == PK_IMAGE_UNKNOWN)
            f = it->info.format == PK_IMAGE_JPEG ? PK_IMAGE_JPEG : PK_IMAGE_PNG;
        /* alpha cannot go to JPEG: those become PNG */
        if (f == PK_IMAGE_JPEG && (it->info.channels == 2 || it->info.channels == 4))
            f = PK_IMAGE_PNG;
        it->out_format = f;
        size_t len = strlen(o->out) + it->name_len + 8;
        if (!(it->dest = malloc(len)))
            return PK_ENOMEM;
        snprintf(it->dest, len, "%s/%.*s.%s", o->out, (int)it->name_len, it->name,
                 f == PK_IMAGE_JPEG ? "jpg" : "png");
    }
    qsort(order, n, sizeof *order, cmp_dest);
    const struct item *keeper = NULL; /* the first image to be done with this output name */
    for (size_t i = 0; i < n; i++) {
        struct item *it = order[i];
        if (it->state != ITEM_QUEUED)
            continue;
        if (!keeper || strcmp(keeper->dest, it->dest) != 0) {
            keeper = it;
            continue;
        }
        char msg[320];
        snprintf(msg, sizeof msg, "%s: output '%s' is also the output of '%s'", it->path, it->dest,
                 keeper->path);
        set_state(it, ITEM_REFUSED, msg);
        it->pixels = 0;
    }
    return PK_OK;
}

static int cmp_pixels_desc(const void *a, const void *b)
{
    const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
    if (x->pixels != y->pixels)
        return x->pixels < y->pixels ? 1 : -1;
    return strcmp(x->path, y->path);
}

/* Longest processing time first: each image, largest first, to the rank with the fewest
 * pixels so far. Every rank computes the same assignment from the same headers. */
static void assign_ranks(struct item **order, size_t n, int nranks)
{
    uint64_t *load = calloc((size_t)nranks, sizeof *load);
    for (size_t i = 0; i < n; i++) {
        int best = 0;
        for (int r = 1; load && r < nranks; r++)
            if (load[r] < load[best])
                best = r;
        order[i]->rank = best;
        if (load)
            load[best] += order[i]->pixels;
    }
    free(load);
}

/* The .check of --format (the images' format): jpeg (or jpg), png or same; the message points
 * to --output-format, stdout's format, since --format is that elsewhere in parkit. */
static int check_image_format(const struct pk_opt *opt, const char *text, struct pk_err *err)
{
    struct image_format_opt *f = opt->dest;
    if (strcmp(text, "jpeg") == 0 || strcmp(text, "jpg") == 0)
        f->f = PK_IMAGE_JPEG;
    else if (strcmp(text, "png") == 0)
        f->f = PK_IMAGE_PNG;
    else if (strcmp(text, "same") == 0)
        f->f = PK_IMAGE_UNKNOWN;
    else
        return pk_fail(err, PK_EINVAL,
                       "--format expects jpeg, png or same, got '%s' (it is the images' format; "
                       "stdout's is --output-format)",
                       text);
    return PK_OK;
}

static const char *const output_format_names[] = {"table", "csv", "json", NULL};

enum { NOPTS = 17 }; /* resize's own options */

/* Declares resize's own options into t (NOPTS and the end). --format is the images' format: it
 * shadows the shared --format, and stdout's format is --output-format. */
static void declare(struct resize_opts *o, struct pk_opt t[NOPTS + 1])
{
    const struct pk_opt table[] = {
        {"out", 0, PK_OPT_PATH, &o->out, "DIR",
         "where the thumbnails go (created with its missing parents)"},
        {"size", 0, PK_OPT_STRING, &o->size.text, "WxH", "the box (default 256x256)",
         .check = check_size},
        {"fill", 0, PK_OPT_FLAG, &o->fill, NULL,
         "cover the box and crop the centre (default: fit inside it, keeping\n"
         "the aspect ratio; an image already inside the box keeps its size)",
         .group = 1},
        {"exact", 0, PK_OPT_FLAG, &o->exact, NULL,
         "stretch to exactly WxH (the aspect ratio is not kept)", .group = 1},
        {"reducing-gap", 0, PK_OPT_REAL, &o->reducing_gap, "G",
         "decode a JPEG at 1/2, 1/4 or 1/8 in the DCT domain only while the\n"
         "shrink left for the resample stays >= G (default 2, as Pillow's\n"
         "thumbnail and libvips; larger: closer to a full resample, slower)",
         .rmin = 1, .rmax = 1e6},
        {"no-shrink-on-load", 0, PK_OPT_FLAG, &o->no_shrink, NULL,
         "decode JPEGs at full size: the quality of a full resample, slowest"},
        {"filter", 0, PK_OPT_ENUM, &o->filter, "F",
         "nearest, bilinear, bicubic, mitchell or lanczos3 (default)", .choices = filter_names},
        {"format", 0, PK_OPT_STRING, &o->format.text, "F",
         "the thumbnails' format: jpeg, png or same (default same; PNM\n"
         "inputs become png)",
         .check = check_image_format},
        {"quality", 0, PK_OPT_INT, &o->quality, "Q", "JPEG quality 1..100 (default 85)", .min = 1,
         .max = 100},
        {"force", 0, PK_OPT_FLAG, &o->force, NULL, "replace existing files in DIR"},
        {"recursive", 0, PK_OPT_FLAG, &o->recursive, NULL,
         "descend into subdirectories of INPUT directories"},
        {"max-pixels", 0, PK_OPT_COUNT, &o->max_pixels, "N",
         "refuse larger images from their header (default 178956970, as\n"
         "Pillow's decompression-bomb limit)",
         .min = 1},
        {"linear", 0, PK_OPT_FLAG, &o->linear, NULL,
         "resample in linear light (sRGB decoded to linear and back): darker\n"
         "and brighter details mix as light does; off by default, as in Pillow\n"
         "and libvips, and slower"},
        {"workers", 0, PK_OPT_INT, &o->workers, "W",
         "threads per pipeline stage: decode, resample, write (default:\n"
         "cores); a resample uses one thread, or -t threads for a single image",
         .min = 1, .max = 1024},
        {"lenient", 0, PK_OPT_FLAG, &o->lenient, NULL,
         "accept JPEGs whose data libjpeg reports as corrupt (bad Huffman\n"
         "code, data cut short, extraneous bytes): their thumbnails are made\n"
         "from what decodes, with a warning per file; without it they fail"},
        {"check-all", 0, PK_OPT_FLAG, &o->check_all, NULL,
         "compare every image, not just the smallest, with the float64\n"
         "reference resampler and report PSNR (slow: a quality study)"},
        {"output-format", 0, PK_OPT_ENUM, &o->output_format, "F",
         "table (default), csv (a header, then one row per image: input,\n"
         "output, status, width, height, seconds, reference max error and\n"
         "PSNR) or json (the record)",
         .choices = output_format_names},
        {NULL},
    };
    _Static_assert(sizeof table / sizeof table[0] == NOPTS + 1, "NOPTS is the table's size");
    memcpy(t, table, sizeof table);
}

/* Fills o and *args (the inputs); returns a pk_opts_parse result (errors and help printed). */
static int parse(int argc, char **argv, const struct pk_comm *c, struct resize_opts *o,
                 struct pk_args *args)
{
    struct pk_common_opts defaults;
    pk_common_defaults(&defaults);
    *o = (struct resize_opts){.size = {.w = 256, .h = 256},
                              .filter = PK_FILTER_LANCZOS3,
                              .quality = 85,
                              .reducing_gap = PK_IMAGE_SHRINK_SAFETY_DEFAULT,
                              .max_pixels = PK_IMAGE_MAX_PIXELS_DEFAULT,
                              .workers = defaults.nthreads}; /* cores, whatever -t says */
    struct pk_opt table[NOPTS + 1];
    declare(o, table);
    /* No --reps or --warmup: a batch runs once (jobs/bench-resize.sh repeats it). */
    const struct pk_cmd_spec spec = {
        .name = "resize",
        .synopsis = "INPUT... --out DIR [--size WxH] [options]",
        .summary = "Batch thumbnails through a decode -> resample -> write pipeline, over threads "
                   "and ranks.",
        .description = description,
        .opts = table,
        .shared = PK_SHARED_THREADS | PK_SHARED_RECORD | PK_SHARED_NO_VERIFY,
        .operands = "the images (files or directories) to resize",
        .min_operands = 1,
    };
    int status = pk_opts_parse(&spec, c, argc, argv, &o->common, args);
    o->common.format = (enum pk_format)o->output_format;
    if (status == PK_EXIT_OK && !o->out) {
        pk_error(c, false, "resize", "give the output directory with --out DIR");
        pk_args_free(args);
        status = PK_EXIT_USAGE;
    }
    /* --max-pixels bounds what is decoded; the outputs in flight (three per worker: in work
     * and in the two queues after the resample) are held to the memory budget, at 8 bytes per
     * output pixel (RGBA and the resample's intermediate rows) */
    uint64_t out_bytes = 8 * (uint64_t)o->size.w * (uint64_t)o->size.h * 3 * (uint64_t)o->workers;
    char what[96];
    snprintf(what, sizeof what, "--size %dx%d on %d %s", o->size.w, o->size.h, o->workers,
             pk_plural((unsigned)o->workers, "worker", "workers"));
    if (status == PK_EXIT_OK &&
        pk_mem_check(c, "resize", what, out_bytes, 0, "give a smaller --size or fewer --workers") !=
            PK_EXIT_OK) {
        pk_args_free(args);
        status = PK_EXIT_USAGE;
    }
    return status;
}

enum stage { STAGE_LIST, STAGE_DECODE, STAGE_RESAMPLE, STAGE_WRITE, NSTAGES };
static const char *const stage_names[NSTAGES] = {"list", "decode", "resample", "write"};

/* The batch as planned and, after the run, as it went. */
struct batch {
    struct list l;       /* every image, in input order: the same list on every rank */
    struct item **order; /* the same images, largest first */
    uint64_t total_px;
    size_t mine; /* images this rank resizes */
    int rc;      /* PK_OK, or why this rank could not run */
    bool interrupted;
    double wall_s;
    double busy_s[NSTAGES]; /* summed over workers, then (after gather) over ranks */
};

static void free_batch(struct batch *b)
{
    for (size_t i = 0; i < b->l.n; i++) {
        free(b->l.v[i].path);
        free(b->l.v[i].dest);
    }
    free(b->l.v);
    free(b->order);
}

/* True when out is in (a directory operand) or the directory holding in (a file operand). */
static bool out_is_input_dir(const char *out, const char *in, bool in_is_dir)
{
    if (in_is_dir)
        return pk_atomicfile_same(out, in);
    const char *slash = strrchr(in, '/');
    char *dir = slash ? strndup(in, (size_t)(slash - in) + 1) : strdup(".");
    bool same = dir && pk_atomicfile_same(out, dir);
    free(dir);
    return same;
}

/* The operands: files as given, directories scanned (sorted); then rank 0 makes the output
 * directory (with its missing parents, as fetch does). */
static int list_inputs(const struct pk_comm *c, const struct resize_opts *o,
                       const struct pk_args *args, struct list *l, struct pk_err *err)
{
    int rc = PK_OK;
    for (size_t a = 0; a < args->noperands && rc == PK_OK; a++) {
        const char *in = args->operand[a];
        struct stat st;
        if (stat(in, &st) != 0)
            rc = pk_fail(err, PK_EINVAL, "cannot open '%s': %s", in, strerror(errno));
        else if (!o->force && out_is_input_dir(o->out, in, S_ISDIR(st.st_mode)))
            rc = pk_fail(err, PK_EINVAL,
                         "--out '%s' is the directory of the input '%s': thumbnails would "
                         "mix with (or replace) the originals; use --force to write there anyway",
                         o->out, in);
        else if (S_ISDIR(st.st_mode))
            rc = scan_dir(l, in, o->recursive, err);
        else
            rc = add_item(l, in);
    }
    struct pk_err e = {0};
    if (rc == PK_OK && c->rank == 0 && (rc = pk_outdir_make(o->out, NULL, &e)) != PK_OK)
        pk_fail(err, rc, "--out: %s", e.msg);
    return rc;
}

/* Headers: sizes for the budget and the balance; a bad header refuses that file alone. */
static void probe_all(const struct resize_opts *o, struct batch *b)
{
    for (size_t i = 0; i < b->l.n; i++) {
        struct pk_err e = {0};
        struct item *it = &b->l.v[i];
        b->order[i] = it;
        if (pk_image_probe(it->path, &it->info, &e) != PK_OK) {
            set_state(it, ITEM_REFUSED, e.msg);
            continue;
        }
        it->pixels = (uint64_t)it->info.width * (uint64_t)it->info.height;
        it->state = ITEM_QUEUED;
        if (it->pixels <= o->max_pixels)
            continue;
        char msg[320];
        snprintf(msg, sizeof msg,
                 "%s: %dx%d is %.1f megapixels, above the budget of %.1f (--max-pixels)", it->path,
                 it->info.width, it->info.height, (double)it->pixels / 1e6,
                 (double)o->max_pixels / 1e6);
        set_state(it, ITEM_REFUSED, msg);
        it->pixels = 0;
    }
}

/* Lists, probes and names every image, and deals them to the ranks (the same on every rank).
 * Collective; returns the agreed exit status (errors printed). */
static int plan_batch(const struct pk_comm *c, const struct resize_opts *o,
                      const struct pk_args *args, struct batch *b)
{
    struct pk_err err = {0};
    int rc = list_inputs(c, o, args, &b->l, &err);
    /* a missing input or a file as --out: usage; an --out that cannot be made, no memory: 1 */
    int status = rc == PK_OK                            ? PK_EXIT_OK
                 : rc == PK_ENOMEM || rc == PK_EIO ? PK_EXIT_RUNTIME
                                                        : PK_EXIT_USAGE;
    if (rc != PK_OK)
        pk_error(c, false, "resize", "%s", err.msg);
    status = pk_dist_agree(c, status);
    if (status != PK_EXIT_OK)
        return status;
    if (!(b->order = calloc(b->l.n ? b->l.n : 1, sizeof *b->order))) {
        /* go on with nothing to do: the run and the gather are collective */
        pk_error(c, true, "resize", "out of memory");
        b->rc = PK_ENOMEM;
        return PK_EXIT_OK;
    }
    probe_all(o, b);
    if (name_outputs(o, b->order, b->l.n) != PK_OK) {
        pk_error(c, true, "resize", "out of memory");
        b->rc = PK_ENOMEM;
    }
    for (size_t i = 0; i < b->l.n; i++)
        b->total_px += b->l.v[i].pixels;
    qsort(b->order, b->l.n, sizeof *b->order, cmp_pixels_desc);
    assign_ranks(b->order, b->l.n, c->nranks);
    for (size_t i = 0; i < b->l.n; i++)
        b->mine += b->order[i]->state == ITEM_QUEUED && b->order[i]->rank == c->rank;
    return PK_EXIT_OK;
}

/* This rank's images, largest first, as pipeline jobs. */
static int make_jobs(const struct pk_comm *c, const struct resize_opts *o, struct batch *b,
                     struct run *r)
{
    *r = (struct run){.jobs = calloc(b->mine ? b->mine : 1, sizeof *r->jobs),
                      .n = b->mine,
                      .tty = c->rank == 0 && isatty(STDERR_FILENO)};
    if (!r->jobs)
        return PK_ENOMEM;
    for (size_t i = 0, k = 0; b->order && i < b->l.n; i++)
        if (b->order[i]->state == ITEM_QUEUED && b->order[i]->rank == c->rank) {
            r->jobs[k] = (struct job){
                .o = o,
                .it = b->order[i],
                .nthreads = b->mine == 1 ? o->common.nthreads : 1,
                /* the smallest image, unless every one is asked for: the reference is slow */
                .check_ref = !o->common.no_verify && (o->check_all || k == b->mine - 1)};
            k++;
        }
    return PK_OK;
}

/* decode -> resample -> write over this rank's images; every rank takes part (for the time). */
static void run_batch(const struct pk_comm *c, const struct resize_opts *o, struct batch *b)
{
    struct run r;
    if (make_jobs(c, o, b, &r) != PK_OK && b->rc == PK_OK)
        b->rc = PK_ENOMEM;
    pthread_mutex_init(&r.lock, NULL);
    int nw = (size_t)o->workers < b->mine ? o->workers : (int)(b->mine ? b->mine : 1);
    /* Bounded queues keep at most 3 * nw decoded images alive, whatever the batch size. */
    const struct pk_stage stages[NSTAGES] = {
        [STAGE_LIST] = {.name = stage_names[STAGE_LIST], .workers = 1, .fn = next_image, .ctx = &r},
        [STAGE_DECODE] = {stage_names[STAGE_DECODE], nw, (size_t)nw, decode_stage, &r, job_release},
        [STAGE_RESAMPLE] = {stage_names[STAGE_RESAMPLE], nw, (size_t)nw, resample_stage, &r,
                            job_release},
        [STAGE_WRITE] = {stage_names[STAGE_WRITE], nw, (size_t)nw, write_stage, &r, NULL},
    };
    struct pk_stage_report sr[NSTAGES] = {{0}};
    pk_interrupt_install();
    r.t0 = pk_now_s();
    if (b->rc == PK_OK && b->mine > 0) {
        struct pk_pipeline_report pr;
        struct pk_err err = {0};
        b->rc = pk_pipeline_run(stages, NSTAGES, sr, &pr, &err);
        if (b->rc != PK_OK)
            pk_error(c, true, "resize", "%s", err.msg);
    }
    if (r.tty)
        fprintf(stderr, "\r%60s\r", "");
    b->wall_s = pk_dist_max_double(c, pk_now_s() - r.t0);
    pk_interrupt_restore();
    for (size_t i = 0; r.jobs && i < b->mine; i++) {
        job_release(&r.jobs[i]);
        if (r.jobs[i].it->state == ITEM_QUEUED) /* never reached the pipeline */
            set_state(r.jobs[i].it, ITEM_NOT_DONE,
                      pk_interrupted() ? "interrupted before decoding" : "not started");
    }
    for (size_t k = 0; k < NSTAGES; k++)
        b->busy_s[k] = sr[k].busy_s;
    pthread_mutex_destroy(&r.lock);
    free(r.jobs);
    b->interrupted = pk_interrupted();
}

/* Who reports an image: rank 0 those refused before the run, the others their rank. */
static int owner(const struct item *it)
{
    return it->state == ITEM_REFUSED ? 0 : it->rank;
}

/* Gives every rank the owners' outcomes, as sums: each image has one owner and the others add
 * zeros, so even a double's bits come through exactly. The stages' busy times add up. */
static int gather(const struct pk_comm *c, struct batch *b)
{
    enum { G_STATE, G_REF, G_MAX_ERR, G_PSNR, G_W, G_H, G_SECONDS, PER };
    size_t n = b->l.n * PER + NSTAGES;
    uint64_t *g = calloc(n, sizeof *g);
    if (!g)
        return PK_ENOMEM;
    for (size_t i = 0; i < b->l.n; i++) {
        const struct item *it = &b->l.v[i];
        uint64_t *s = g + PER * i;
        if (owner(it) != c->rank)
            continue;
        s[G_STATE] = 1 + (uint64_t)it->state; /* 0: not this rank's */
        s[G_REF] = it->verified_ref;
        memcpy(&s[G_MAX_ERR], &it->max_err, sizeof it->max_err);
        memcpy(&s[G_PSNR], &it->psnr, sizeof it->psnr);
        s[G_W] = (uint64_t)it->out_w;
        s[G_H] = (uint64_t)it->out_h;
        memcpy(&s[G_SECONDS], &it->seconds, sizeof it->seconds);
    }
    for (size_t k = 0; k < NSTAGES; k++)
        g[b->l.n * PER + k] = (uint64_t)llround(b->busy_s[k] * 1e9);
    pk_dist_sum_u64(c, g, n);
    for (size_t i = 0; i < b->l.n; i++) {
        struct item *it = &b->l.v[i];
        const uint64_t *s = g + PER * i;
        it->state = (enum item_state)(s[G_STATE] - 1);
        it->verified_ref = s[G_REF] != 0;
        memcpy(&it->max_err, &s[G_MAX_ERR], sizeof it->max_err);
        memcpy(&it->psnr, &s[G_PSNR], sizeof it->psnr);
        it->out_w = (int)s[G_W];
        it->out_h = (int)s[G_H];
        memcpy(&it->seconds, &s[G_SECONDS], sizeof it->seconds);
    }
    for (size_t k = 0; k < NSTAGES; k++)
        b->busy_s[k] = (double)g[b->l.n * PER + k] / 1e9;
    free(g);
    return PK_OK;
}

struct summary {
    size_t done, failed, not_done, ref_checked, ref_bad;
    double psnr_sum, psnr_min, max_err;
    bool verified;
    int status;
};

/* Counts the outcomes and judges the reference checks (within one level of 255). */
static int verify(const struct resize_opts *o, const struct batch *b, struct summary *s)
{
    *s = (struct summary){.psnr_min = INFINITY};
    for (size_t i = 0; i < b->l.n; i++) {
        const struct item *it = &b->l.v[i];
        s->done += it->state == ITEM_DONE;
        s->failed += it->state == ITEM_FAILED || it->state == ITEM_REFUSED;
        s->not_done += it->state == ITEM_NOT_DONE || it->state == ITEM_QUEUED;
        if (!it->verified_ref)
            continue;
        s->ref_checked++;
        s->ref_bad += it->max_err > 1.0;
        s->psnr_sum += it->psnr;
        s->psnr_min = it->psnr < s->psnr_min ? it->psnr : s->psnr_min;
        s->max_err = it->max_err > s->max_err ? it->max_err : s->max_err;
    }
    s->verified = !o->common.no_verify && s->ref_checked > 0 && s->ref_bad == 0 && !b->interrupted;
    s->status = b->interrupted || b->rc != PK_OK ? PK_EXIT_RUNTIME
                : s->ref_bad                     ? PK_EXIT_VERIFY
                : s->failed                      ? PK_EXIT_RUNTIME
                                                 : PK_EXIT_OK;
    return s->status;
}

static const char *mode_name(const struct resize_opts *o)
{
    return o->fill ? "fill" : o->exact ? "exact" : "fit";
}

static json_t *make_record(const struct pk_comm *c, const struct resize_opts *o,
                           const struct batch *b, const struct summary *s, const json_t *sysinfo)
{
    double mp = (double)b->total_px / 1e6, wall = b->wall_s;
    json_t *rec = pk_record_new("resize");
    json_object_set_new(
        rec, "params",
        json_pack("{s:I, s:i, s:i, s:s, s:s, s:s, s:i, s:b, s:b, s:f, s:i, s:i, s:i}", "images",
                  (json_int_t)b->l.n, "box_w", o->size.w, "box_h", o->size.h, "mode", mode_name(o),
                  "filter", filter_names[o->filter], "format",
                  o->format.f == PK_IMAGE_UNKNOWN ? "same" : pk_image_format_name(o->format.f),
                  "quality", o->quality, "linear", o->linear, "shrink_on_load", !o->no_shrink,
                  "reducing_gap", o->reducing_gap, "workers", o->workers, "threads",
                  o->common.nthreads, "ranks", c->nranks));
    /* whether corrupt JPEG data was accepted (each such file is named on stderr) */
    json_object_set_new(json_object_get(rec, "params"), "lenient", json_boolean(o->lenient));
    json_t *result =
        json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "done", (json_int_t)s->done, "failed",
                  (json_int_t)s->failed, "not_done", (json_int_t)s->not_done, "input_megapixels",
                  mp, "wall_s", wall, "images_per_s", wall > 0 ? (double)s->done / wall : 0,
                  "megapixels_per_s", wall > 0 ? mp / wall : 0);
    if (s->ref_checked)
        json_object_set_new(result, "reference",
                            json_pack("{s:I, s:f, s:f, s:f}", "images", (json_int_t)s->ref_checked,
                                      "max_error", s->max_err, "psnr_mean_db",
                                      s->psnr_sum / (double)s->ref_checked, "psnr_min_db",
                                      s->psnr_min));
    json_t *busy = json_object();
    for (size_t k = STAGE_DECODE; k < NSTAGES; k++)
        json_object_set_new(busy, stage_names[k], json_real(b->busy_s[k]));
    json_object_set_new(result, "stage_busy_s", busy);
    json_object_set_new(rec, "result", result);
    json_object_set_new(rec, "verified", json_boolean(s->verified));
    pk_record_set_timing(rec, &wall, 1, 0);
    pk_record_set_provenance(rec, sysinfo);
    return rec;
}

static void blanks(struct pk_csvw *w, int n)
{
    while (n-- > 0)
        pk_csvw_field(w, NULL);
}

/* What the views print besides the record: every image's outcome and the batch's totals. */
struct resize_view {
    const struct pk_comm *c;
    const struct resize_opts *o;
    const struct batch *b;
    const struct summary *s;
};

/* A header, then one row per image in input order; what an image lacks is an empty field. */
static void print_csv(const json_t *rec, struct pk_csvw *w, const void *ctx)
{
    const struct batch *b = ((const struct resize_view *)ctx)->b;
    static const char *const head[] = {
        "input",   "output", "status", "width", "height", "seconds", "reference_max_error",
        "psnr_db", NULL};
    (void)rec;
    pk_csvw_row(w, head);
    for (size_t i = 0; i < b->l.n; i++) {
        const struct item *it = &b->l.v[i];
        bool done = it->state == ITEM_DONE;
        pk_csvw_field(w, it->path);
        pk_csvw_field(w, done ? it->dest : NULL);
        pk_csvw_field(w, done                                                    ? "done"
                         : it->state == ITEM_FAILED || it->state == ITEM_REFUSED ? "failed"
                                                                                 : "not_done");
        if (done) {
            pk_csvw_fieldf(w, "%d", it->out_w);
            pk_csvw_fieldf(w, "%d", it->out_h);
            pk_csvw_fieldf(w, "%.6f", it->seconds);
        } else
            blanks(w, 3);
        if (it->verified_ref) {
            pk_csvw_fieldf(w, "%.0f", it->max_err);
            pk_csvw_fieldf(w, "%.2f", it->psnr);
        } else
            blanks(w, 2);
        pk_csvw_end(w);
    }
}

static void print_table(const json_t *rec, const void *ctx)
{
    const struct resize_view *v = ctx;
    const struct resize_opts *o = v->o;
    const struct batch *b = v->b;
    const struct summary *s = v->s;
    double mp = (double)b->total_px / 1e6, wall = b->wall_s;
    (void)rec;
    printf("# parkit resize: %zu %s (%.1f MP) into %dx%d (%s, %s), %d %s x %d %s\n", b->l.n,
           pk_plural(b->l.n, "image", "images"), mp, o->size.w, o->size.h, mode_name(o),
           filter_names[o->filter], o->workers, pk_plural((unsigned)o->workers, "worker", "workers"),
           v->c->nranks, pk_plural((unsigned)v->c->nranks, "rank", "ranks"));
    printf("done        %zu, failed %zu", s->done, s->failed);
    if (s->not_done)
        printf(", not done %zu (interrupted)", s->not_done);
    printf("\n");
    printf("time        %.3f s: %.1f images/s, %.1f MP/s\n", wall,
           wall > 0 ? (double)s->done / wall : 0, wall > 0 ? mp / wall : 0);
    printf("stages      busy s, summed over workers and ranks:");
    for (size_t k = STAGE_DECODE; k < NSTAGES; k++)
        printf(" %s %.2f", stage_names[k], b->busy_s[k]);
    printf("\n");
    if (s->ref_checked)
        printf("reference   %zu %s against the float64 resampler: max error %.0f of "
               "255, PSNR mean %.1f dB, min %.1f dB\n",
               s->ref_checked, pk_plural(s->ref_checked, "image", "images"), s->max_err,
               s->psnr_sum / (double)s->ref_checked, s->psnr_min);
    printf("verified    %s\n", s->verified           ? "yes"
                               : o->common.no_verify ? "skipped"
                               : b->interrupted      ? "no (interrupted)"
                               : s->ref_checked == 0 ? "no (no image was resized)"
                                                     : "NO");
}

/* Each failed image on stderr, and each accepted with --lenient, from the rank that owns it. */
static void say_failures(const struct pk_comm *c, const struct batch *b)
{
    for (size_t i = 0; i < b->l.n; i++) {
        const struct item *it = &b->l.v[i];
        if (owner(it) != c->rank)
            continue;
        if (it->state == ITEM_FAILED || it->state == ITEM_REFUSED)
            pk_error(c, true, "resize", "%s", it->error[0] ? it->error : "failed");
        else if (it->state == ITEM_DONE && it->error[0] && c->rank == 0)
            fprintf(stderr, "parkit resize: warning: %s\n", it->error);
        else if (it->state == ITEM_DONE && it->error[0])
            fprintf(stderr, "[rank %d] parkit resize: warning: %s\n", c->rank, it->error);
    }
}

/* Why the status is not 0, besides a failed verification (pk_emit names that); rank 0. */
static void say_why(const struct pk_comm *c, const struct batch *b, const struct summary *s)
{
    const char *images = pk_plural(b->l.n, "image", "images");
    if (b->interrupted)
        pk_error(c, false, "resize", "interrupted after %zu of %zu %s", s->done, b->l.n, images);
    else if (!s->ref_bad && s->failed)
        pk_error(c, false, "resize", "%zu of %zu %s failed", s->failed, b->l.n, images);
}

/* The batch, planned, run, gathered and verified; then its record on rank 0. Collective. */
static int run_all(const struct pk_comm *c, const struct resize_opts *o, struct batch *b,
                   struct summary *s, json_t **rec)
{
    json_t *sysinfo = pk_sysinfo_for_command(c, "resize", o->common.nthreads);
    run_batch(c, o, b);
    if (gather(c, b) != PK_OK) {
        pk_error(c, true, "resize", "out of memory");
        b->rc = PK_ENOMEM;
    }
    verify(o, b, s);
    say_failures(c, b);
    *rec = c->rank == 0 ? make_record(c, o, b, s, sysinfo) : NULL;
    json_decref(sysinfo);
    return s->status;
}

int pk_cmd_resize(int argc, char **argv, const struct pk_comm *c)
{
    struct resize_opts o;
    struct pk_args args;
    int status = parse(argc, argv, c, &o, &args);
    if (status != PK_EXIT_OK)
        return pk_opts_exit(status);
    struct batch b = {0};
    status = plan_batch(c, &o, &args, &b);
    pk_args_free(&args);
    if (status == PK_EXIT_OK) {
        struct summary s;
        json_t *rec;
        status = run_all(c, &o, &b, &s, &rec);
        static const struct pk_view view = {print_table, print_csv};
        const struct resize_view ctx = {c, &o, &b, &s};
        status = pk_emit(c, "resize", &o.common, &view, &ctx, rec, status);
        if (c->rank == 0)
            say_why(c, &b, &s);
    }
    free_batch(&b);
    return status;
}
