/*
 * Logging to stderr, one line per event. Level from LOG_LEVEL
 * (error|warn|info|debug, default info). Never pass secrets or prompt text.
 */
#ifndef GW_CORE_LOG_H
#define GW_CORE_LOG_H

enum { GW_LOG_ERROR, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG };

void gw_log_init(void);
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gw_log_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...) gw_log(GW_LOG_DEBUG, __VA_ARGS__)

#endif
