/* The Gemini schema sanitizer: any JSON a client sends as tool parameters or
 * a response_format schema, through both sanitizers and the declaration. */
#include "fuzz_common.h"
#include "providers/gemini_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *schema = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    json_t *full;
    json_t *light;
    json_t *decl;

    if (schema == NULL)
        return 0;
    full = gw_gemini_schema_sanitize(schema);
    light = gw_gemini_schema_light(schema);
    if (full != NULL)
        (void)gw_gemini_schema_is_empty(full);
    decl = gw_gemini_function_decl("f", json_object_get(schema, "description"), schema);
    json_decref(decl);
    json_decref(light);
    json_decref(full);
    json_decref(schema);
    return 0;
}
