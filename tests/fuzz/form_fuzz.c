/* The multipart form reader: libmicrohttpd's post processor under our
 * callbacks and limits, on a real connection. Each input is sent through a
 * socketpair to a daemon without a listening socket: the first line is the
 * boundary, the rest the body. */
#include <microhttpd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "http/form.h"

typedef struct exchange {
    gw_buf_t body;
    bool done;
} exchange_t;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **state)
{
    exchange_t *x = cls;
    static const gw_form_limits_t lim = {.max_file = 4096, .max_field = 1024, .max_items = 16};
    gw_form_t form;
    gw_err_t err = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;

    (void)url, (void)method, (void)version;
    if (*state == NULL) {
        *state = x;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        gw_buf_append(&x->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (gw_form_parse_body(conn, (gw_str_t){x->body.ptr ? x->body.ptr : "", x->body.len}, &lim,
                           &form, &err) == 0) {
        for (size_t i = 0; i < form.n; i++)
            (void)gw_form_item(&form, form.items[i].name, 0);
        (void)gw_form_value(&form, "model");
        gw_form_dispose(&form);
    }
    x->done = true;
    r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void quiet(void *cls, const char *fmt, va_list ap)
{
    (void)cls, (void)fmt, (void)ap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    exchange_t x = {.done = false};
    struct MHD_Daemon *d;
    struct sockaddr_in peer = {.sin_family = AF_INET};
    char head[512];
    int fds[2];
    int hn;

    if (nl == NULL || nl - data > 200 || memchr(data, '\r', (size_t)(nl - data)) != NULL ||
        size > 60000)
        return 0;
    hn = snprintf(head, sizeof(head),
                  "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: multipart/form-data; boundary=%.*s\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  (int)(nl - data), (const char *)data, size - (size_t)(nl - data) - 1);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 0;
    gw_buf_init(&x.body, 1 << 20);
    d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         on_request, &x, MHD_OPTION_EXTERNAL_LOGGER, quiet, NULL,
                         MHD_OPTION_END);
    if (d == NULL || write(fds[0], head, (size_t)hn) != hn ||
        write(fds[0], nl + 1, size - (size_t)(nl - data) - 1) < 0 ||
        MHD_add_connection(d, fds[1], (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES) {
        close(fds[1]);
    } else {
        shutdown(fds[0], SHUT_WR);
        for (int i = 0; i < 200 && !x.done; i++)
            MHD_run(d);
    }
    if (d != NULL)
        MHD_stop_daemon(d);
    close(fds[0]);
    gw_buf_dispose(&x.body);
    return 0;
}
