/* The Gemini schema sanitizer: one table row per rule, {input, expected},
 * compared as JSON; plus the light cleaning for responseJsonSchema and the
 * bounds on hostile schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gw.h"
#include "providers/gemini_schema.h"

typedef struct row {
    const char *rule;
    const char *in;
    const char *want;
} row_t;

static void check(json_t *(*fn)(json_t *), const row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *in = json_loads(rows[i].in, JSON_DECODE_ANY, NULL);
        json_t *want = json_loads(rows[i].want, 0, NULL);
        json_t *copy;
        json_t *got;

        if (in == NULL || want == NULL)
            fail_msg("%s: bad test JSON", rows[i].rule);
        copy = json_deep_copy(in);
        got = fn(in);
        if (!json_equal(got, want)) {
            char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
            print_error("rule: %s\n got: %s\n", rows[i].rule, g);
            free(g);
            fail();
        }
        assert_true(json_equal(in, copy)); /* the input is borrowed, never edited */
        json_decref(got);
        json_decref(copy);
        json_decref(in);
        json_decref(want);
    }
}

static void test_dropped_keywords(void **state)
{
    static const row_t rows[] = {
        {"every keyword of providers/README.md section 1, at the root",
         "{\"$schema\":\"http://json-schema.org/draft-07/"
         "schema#\",\"$id\":\"x\",\"$comment\":\"c\","
         "\"definitions\":{},\"$defs\":{},\"exclusiveMinimum\":0,\"exclusiveMaximum\":9,"
         "\"patternProperties\":{},\"unevaluatedProperties\":false,\"unevaluatedItems\":false,"
         "\"if\":{},\"then\":{},\"else\":{},\"contentEncoding\":\"base64\","
         "\"contentMediaType\":\"text/plain\",\"contentSchema\":{},\"dependentRequired\":{},"
         "\"dependentSchemas\":{},\"dependencies\":{},\"additionalProperties\":false,"
         "\"examples\":[1],\"readOnly\":true,\"writeOnly\":false,\"uniqueItems\":true,"
         "\"not\":{},\"prefixItems\":[],\"contains\":{},\"minContains\":1,\"maxContains\":2,"
         "\"propertyNames\":{},\"multipleOf\":2,\"deprecated\":true,\"x-vendor\":1,"
         "\"x-google-foo\":{},\"strict\":true,\"type\":\"object\",\"properties\":"
         "{\"a\":{\"type\":\"integer\",\"exclusiveMinimum\":0,\"multipleOf\":3}}}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}"},
        {"nested too: in properties, items and union branches",
         "{\"type\":\"object\",\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"object\",\"additionalProperties\":false,\"properties\":{\"v\":{\"type\":\"string\","
         "\"x-order\":1}}}}}}",
         "{\"type\":\"object\",\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"object\",\"properties\":{\"v\":{\"type\":\"string\"}}}}}}"},
        {"property names are never keywords",
         "{\"type\":\"object\",\"properties\":{\"type\":{\"type\":\"string\"},\"const\":{\"type\":"
         "\"number\"},\"x-id\":{\"type\":\"string\"},\"$ref\":{\"type\":\"boolean\"}},"
         "\"required\":[\"type\",\"x-id\"]}",
         "{\"type\":\"object\",\"properties\":{\"type\":{\"type\":\"string\"},\"const\":{\"type\":"
         "\"number\"},\"x-id\":{\"type\":\"string\"},\"$ref\":{\"type\":\"boolean\"}},"
         "\"required\":[\"type\",\"x-id\"]}"},
        {"kept keywords (Gemini Schema fields), wrong-typed ones dropped",
         "{\"type\":\"string\",\"description\":\"d\",\"title\":\"t\",\"minLength\":1,"
         "\"maxLength\":9,\"pattern\":\"^a\",\"default\":\"a\",\"example\":\"ab\","
         "\"nullable\":false,\"minimum\":\"1\",\"description2\":\"x\"}",
         "{\"type\":\"string\",\"description\":\"d\",\"title\":\"t\",\"minLength\":1,"
         "\"maxLength\":9,\"pattern\":\"^a\",\"default\":\"a\",\"example\":\"ab\","
         "\"nullable\":false}"},
        {"numbers keep their bounds", "{\"type\":\"number\",\"minimum\":0,\"maximum\":1.5}",
         "{\"type\":\"number\",\"minimum\":0,\"maximum\":1.5}"},
        {"non-object input", "true", "{\"type\":\"object\"}"},
    };
    (void)state;
    check(gw_gemini_schema_sanitize, rows, GW_ARRAY_LEN(rows));
}

static void test_types_and_unions(void **state)
{
    static const row_t rows[] = {
        {"type array -> type + nullable", "{\"type\":[\"string\",\"null\"]}",
         "{\"type\":\"string\",\"nullable\":true}"},
        {"null listed first", "{\"type\":[\"null\",\"integer\"]}",
         "{\"type\":\"integer\",\"nullable\":true}"},
        {"null-only type", "{\"type\":\"null\"}", "{\"type\":\"object\",\"nullable\":true}"},
        {"several non-null types: the first", "{\"type\":[\"string\",\"number\"]}",
         "{\"type\":\"string\"}"},
        {"upper-case and unknown types",
         "{\"properties\":{\"a\":{\"type\":\"STRING\"},"
         "\"b\":{\"type\":\"any\"}}}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":"
         "\"object\"}}}"},
        {"anyOf with null -> the branch + nullable",
         "{\"description\":\"opt\",\"anyOf\":[{\"type\":\"integer\",\"minimum\":1},"
         "{\"type\":\"null\"}]}",
         "{\"description\":\"opt\",\"type\":\"integer\",\"minimum\":1,\"nullable\":true}"},
        {"anyOf of several stays (cleaned), alone: siblings move into the branches",
         "{\"description\":\"id\",\"title\":\"Id\",\"anyOf\":[{\"type\":\"string\",\"format\":"
         "\"email\"},{\"type\":\"integer\",\"description\":\"numeric\"},{\"type\":\"null\"}]}",
         "{\"anyOf\":[{\"type\":\"string\",\"nullable\":true,\"description\":\"id\"},{\"type\":"
         "\"integer\",\"nullable\":true,\"description\":\"numeric\"}]}"},
        {"a schema saying nothing is an object", "{\"description\":\"anything\"}",
         "{\"type\":\"object\",\"description\":\"anything\"}"},
        {"oneOf -> anyOf", "{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"boolean\"}]}",
         "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"boolean\"}]}"},
        {"allOf merged, properties and required united",
         "{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},"
         "\"required\":[\"a\"]},{\"properties\":{\"b\":{\"type\":\"integer\"}},\"required\":"
         "[\"b\"]}],\"description\":\"both\"}",
         "{\"type\":\"object\",\"description\":\"both\",\"properties\":{\"a\":{\"type\":"
         "\"string\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}"},
        {"type inferred from properties / items / enum",
         "{\"properties\":{\"l\":{\"items\":{\"enum\":[\"x\"]}}}}",
         "{\"type\":\"object\",\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"string\",\"enum\":[\"x\"]}}}}"},
    };
    (void)state;
    check(gw_gemini_schema_sanitize, rows, GW_ARRAY_LEN(rows));
}

static void test_enum_const_format(void **state)
{
    static const row_t rows[] = {
        {"const -> enum [value]", "{\"type\":\"string\",\"const\":\"on\"}",
         "{\"type\":\"string\",\"enum\":[\"on\"]}"},
        {"enum null member -> nullable", "{\"type\":\"string\",\"enum\":[\"a\",null]}",
         "{\"type\":\"string\",\"enum\":[\"a\"],\"nullable\":true}"},
        {"numeric enum on a string type: stringified", "{\"type\":\"string\",\"enum\":[1,2]}",
         "{\"type\":\"string\",\"enum\":[\"1\",\"2\"]}"},
        {"numeric enum on an integer: moved to the description",
         "{\"type\":\"integer\",\"description\":\"Level.\",\"enum\":[1,2,3]}",
         "{\"type\":\"integer\",\"description\":\"Level. Allowed values: 1, 2, 3.\"}"},
        {"enum without type: a string enum", "{\"enum\":[\"a\",\"b\"]}",
         "{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}"},
        {"unsupported string format dropped", "{\"type\":\"string\",\"format\":\"uri\"}",
         "{\"type\":\"string\"}"},
        {"date-time kept", "{\"type\":\"string\",\"format\":\"date-time\"}",
         "{\"type\":\"string\",\"format\":\"date-time\"}"},
        {"int64 kept, float on integer dropped",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"format\":\"int64\"},"
         "\"b\":{\"type\":\"integer\",\"format\":\"float\"},\"c\":{\"type\":\"number\","
         "\"format\":\"double\"}}}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"format\":\"int64\"},"
         "\"b\":{\"type\":\"integer\"},\"c\":{\"type\":\"number\",\"format\":\"double\"}}}"},
    };
    (void)state;
    check(gw_gemini_schema_sanitize, rows, GW_ARRAY_LEN(rows));
}

static void test_objects_arrays_required(void **state)
{
    static const row_t rows[] = {
        {"required names only existing properties, without duplicates",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":"
         "[\"a\",\"ghost\",\"a\"]}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":"
         "[\"a\"]}"},
        {"required naming nothing is removed",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":"
         "[\"b\"]}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}"},
        {"nested object without properties: {type: object} alone (empty properties are a 400)",
         "{\"type\":\"object\",\"properties\":{\"meta\":{\"type\":\"object\",\"description\":"
         "\"free-form\",\"properties\":{},\"additionalProperties\":{\"type\":\"string\"},"
         "\"required\":[\"k\"]}}}",
         "{\"type\":\"object\",\"properties\":{\"meta\":{\"type\":\"object\",\"description\":"
         "\"free-form\"}}}"},
        {"properties only on objects",
         "{\"type\":\"string\",\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]}",
         "{\"type\":\"string\"}"},
        {"array without items gets string items", "{\"type\":\"array\",\"minItems\":1}",
         "{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"string\"}}"},
        {"items saying nothing: string items",
         "{\"type\":\"array\",\"items\":{\"description\":\"any\"}}",
         "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"},
        {"tuple items: the first schema",
         "{\"type\":\"array\",\"items\":[{\"type\":\"number\"},{\"type\":\"string\"}]}",
         "{\"type\":\"array\",\"items\":{\"type\":\"number\"}}"},
        {"items/minItems only on arrays", "{\"type\":\"string\",\"minItems\":1}",
         "{\"type\":\"string\"}"},
    };
    (void)state;
    check(gw_gemini_schema_sanitize, rows, GW_ARRAY_LEN(rows));
}

static void test_refs(void **state)
{
    static const row_t rows[] = {
        {"local $ref to $defs is inlined (sanitized), $defs dropped",
         "{\"type\":\"object\",\"properties\":{\"p\":{\"$ref\":\"#/$defs/Pet\"}},\"$defs\":{"
         "\"Pet\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},"
         "\"additionalProperties\":false}}}",
         "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"object\",\"properties\":"
         "{\"name\":{\"type\":\"string\"}}}}}"},
        {"definitions and sibling keywords winning",
         "{\"type\":\"object\",\"properties\":{\"c\":{\"$ref\":\"#/definitions/Color\","
         "\"description\":\"fav\"}},\"definitions\":{\"Color\":{\"type\":\"string\","
         "\"description\":\"a color\",\"enum\":[\"red\"]}}}",
         "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"string\",\"description\":\"fav\","
         "\"enum\":[\"red\"]}}}"},
        {"pointer escapes ~1 and ~0",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/x~1y~0z\"}},"
         "\"$defs\":{\"x/y~z\":{\"type\":\"boolean\"}}}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"boolean\"}}}"},
        {"self-reference stops (the inner ref becomes {})",
         "{\"$defs\":{\"Node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"},"
         "\"next\":{\"$ref\":\"#/$defs/Node\"}}}},\"type\":\"object\",\"properties\":{\"n\":"
         "{\"$ref\":\"#/$defs/Node\"}}}",
         "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"object\",\"properties\":"
         "{\"v\":{\"type\":\"string\"},\"next\":{\"type\":\"object\"}}}}}"},
        {"unresolvable and remote refs are dropped",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/Nope\"},\"b\":{\"$ref\":"
         "\"https://example.com/s.json\"}}}",
         "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\"},\"b\":{\"type\":"
         "\"object\"}}}"},
        {"a ref to the root expands once, like any recursive ref",
         "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"},\"kids\":{\"type\":"
         "\"array\",\"items\":{\"$ref\":\"#\"}}}}",
         "{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"},\"kids\":{\"type\":"
         "\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"},"
         "\"kids\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}}}}"},
        {"Pydantic style: allOf of one $ref plus a description",
         "{\"type\":\"object\",\"properties\":{\"u\":{\"allOf\":[{\"$ref\":\"#/$defs/Unit\"}],"
         "\"description\":\"unit\"}},\"$defs\":{\"Unit\":{\"enum\":[\"c\",\"f\"],\"title\":"
         "\"Unit\",\"type\":\"string\"}}}",
         "{\"type\":\"object\",\"properties\":{\"u\":{\"type\":\"string\",\"enum\":[\"c\",\"f\"],"
         "\"title\":\"Unit\",\"description\":\"unit\"}}}"},
    };
    (void)state;
    check(gw_gemini_schema_sanitize, rows, GW_ARRAY_LEN(rows));
}

static void test_is_empty(void **state)
{
    static const struct {
        const char *in;
        bool empty;
    } cases[] = {
        {"{\"type\":\"object\",\"properties\":{}}", true},
        {"{\"type\":\"object\"}", true},
        {"{\"type\":\"object\",\"additionalProperties\":true}", true},
        {"{}", true},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}", false},
    };
    (void)state;
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        json_t *in = json_loads(cases[i].in, 0, NULL);
        json_t *s = gw_gemini_schema_sanitize(in);
        assert_int_equal(gw_gemini_schema_is_empty(s), cases[i].empty);
        json_decref(s);
        json_decref(in);
    }
}

static void test_light_for_response_json_schema(void **state)
{
    static const row_t rows[] = {
        {"$schema, $id, $comment, x-* go; JSON Schema stays",
         "{\"$schema\":\"s\",\"$id\":\"i\",\"type\":\"object\",\"x-a\":1,\"properties\":{"
         "\"x-name\":{\"type\":[\"string\",\"null\"],\"$comment\":\"c\",\"x-b\":2},\"n\":{"
         "\"$ref\":\"#/$defs/N\"}},\"$defs\":{\"x-N\":{\"type\":\"integer\"},\"N\":{\"type\":"
         "\"number\",\"x-c\":3}},\"additionalProperties\":false,\"required\":[\"x-name\"],"
         "\"enum\":null,\"anyOf\":[{\"x-d\":4,\"type\":\"object\"}]}",
         "{\"type\":\"object\",\"properties\":{\"x-name\":{\"type\":[\"string\",\"null\"]},"
         "\"n\":{\"$ref\":\"#/$defs/N\"}},\"$defs\":{\"x-N\":{\"type\":\"integer\"},\"N\":"
         "{\"type\":\"number\"}},\"additionalProperties\":false,\"required\":[\"x-name\"],"
         "\"enum\":null,\"anyOf\":[{\"type\":\"object\"}]}"},
        {"data values are never touched",
         "{\"type\":\"object\",\"default\":{\"x-keep\":1,\"$schema\":2},\"examples\":"
         "[{\"x-keep\":1}]}",
         "{\"type\":\"object\",\"default\":{\"x-keep\":1,\"$schema\":2},\"examples\":"
         "[{\"x-keep\":1}]}"},
        {"non-object input", "[1]", "{}"},
    };
    (void)state;
    check(gw_gemini_schema_light, rows, GW_ARRAY_LEN(rows));
}

/* Deep nesting and a $ref fan-out (each level referring twice to the next:
 * 2^40 expansions if unbounded) finish quickly and stay well-formed. */
static void test_hostile_schemas_are_bounded(void **state)
{
    json_t *deep = json_pack("{s:s}", "type", "string");
    json_t *defs = json_object();
    json_t *fan;
    json_t *s;
    char *text;
    (void)state;

    for (int i = 0; i < 2000; i++)
        deep = json_pack("{s:s,s:{s:o}}", "type", "object", "properties", "a", deep);
    s = gw_gemini_schema_sanitize(deep);
    assert_true(json_is_object(s));
    json_decref(s);
    s = gw_gemini_schema_light(deep);
    assert_true(json_is_object(s));
    json_decref(s);
    json_decref(deep);

    for (int i = 0; i < 40; i++) {
        char name[16];
        char next[32];
        snprintf(name, sizeof(name), "D%d", i);
        snprintf(next, sizeof(next), "#/$defs/D%d", i + 1);
        json_object_set_new(defs, name,
                            json_pack("{s:s,s:{s:{s:s},s:{s:s}}}", "type", "object", "properties",
                                      "l", "$ref", next, "r", "$ref", next));
    }
    fan = json_pack("{s:s,s:{s:{s:s}},s:o}", "type", "object", "properties", "root", "$ref",
                    "#/$defs/D0", "$defs", defs);
    s = gw_gemini_schema_sanitize(fan);
    text = json_dumps(s, JSON_COMPACT);
    assert_non_null(text);
    assert_true(strlen(text) < (8u << 20));
    free(text);
    json_decref(s);
    json_decref(fan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dropped_keywords),
        cmocka_unit_test(test_types_and_unions),
        cmocka_unit_test(test_enum_const_format),
        cmocka_unit_test(test_objects_arrays_required),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_is_empty),
        cmocka_unit_test(test_light_for_response_json_schema),
        cmocka_unit_test(test_hostile_schemas_are_bounded),
    };
    return cmocka_run_group_tests_name("providers/gemini_schema", tests, NULL, NULL);
}
