// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_check.c - what the compiler says about bad policies, and where.
 *
 * Each case is a small XML document (via polc_parse_xml_mem, reported as
 * "t.xml"), the exact "t.xml:LINE: error: ..." substrings expected, in
 * the order they must appear, and the exact error and warning counts, so
 * a case also proves nothing else was said.  Documents are built from
 * one-line pieces whose line numbers are fixed:
 *
 *   1  <SecurityPolicyDefinition ...>
 *   2  <PolicyHeader>...</PolicyHeader>          (HEAD, or the case's own)
 *   3  STE component                             (STE_AB, or the case's)
 *   4  ChineseWall component                     (CW_AB, CW_SET, or ...)
 *   5  <SecurityLabelTemplate><SubjectLabels bootstrap="...">
 *   6+ one VirtualMachineLabel per line, then the tail (resource labels,
 *      one per line after an <ObjectLabels> line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy-compiler/polc.h"
#include "tests/harness.h"

#define ROOT "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\">\n"
#define HEAD                                                                   \
	"<PolicyHeader><PolicyName>t</PolicyName><Version>1.0</Version>"       \
	"</PolicyHeader>\n"
#define T(x) "<Type>" x "</Type>"
#define STE(types)                                                             \
	"<SimpleTypeEnforcement><SimpleTypeEnforcementTypes>" types            \
	"</SimpleTypeEnforcementTypes></SimpleTypeEnforcement>\n"
#define CW(types, sets)                                                        \
	"<ChineseWall><ChineseWallTypes>" types "</ChineseWallTypes>" sets     \
	"</ChineseWall>\n"
#define SETS(x)		 "<ConflictSets>" x "</ConflictSets>"
#define SET(name, types) "<Conflict name=\"" name "\">" types "</Conflict>"
#define STE_AB		 STE(T("A") T("B"))
#define CW_AB		 CW(T("A") T("B"), "")
#define CW_SET		 CW(T("A") T("B"), SETS(SET("AB", T("A") T("B"))))

/* Line 5: the template up to the first VM label. */
#define BOOT(b) "<SecurityLabelTemplate><SubjectLabels bootstrap=\"" b "\">\n"
#define VM(name, ste, cw)                                                      \
	"<VirtualMachineLabel><Name>" name "</Name>"                           \
	"<SimpleTypeEnforcementTypes>" ste "</SimpleTypeEnforcementTypes>"     \
	"<ChineseWallTypes>" cw "</ChineseWallTypes>"                          \
	"</VirtualMachineLabel>\n"
#define VM_STE(name, ste)                                                      \
	"<VirtualMachineLabel><Name>" name "</Name>"                           \
	"<SimpleTypeEnforcementTypes>" ste "</SimpleTypeEnforcementTypes>"     \
	"</VirtualMachineLabel>\n"
#define VM_CW(name, cw)                                                        \
	"<VirtualMachineLabel><Name>" name "</Name>"                           \
	"<ChineseWallTypes>" cw "</ChineseWallTypes></VirtualMachineLabel>\n"
#define RES(name, ste)                                                         \
	"<ResourceLabel><Name>" name "</Name>"                                 \
	"<SimpleTypeEnforcementTypes>" ste "</SimpleTypeEnforcementTypes>"     \
	"</ResourceLabel>\n"
#define TAIL                                                                   \
	"</SubjectLabels></SecurityLabelTemplate>\n"                           \
	"</SecurityPolicyDefinition>\n"
#define TAIL_RES(res)                                                          \
	"</SubjectLabels>\n<ObjectLabels>\n" res                               \
	"</ObjectLabels></SecurityLabelTemplate>\n"                            \
	"</SecurityPolicyDefinition>\n"
/* The smallest sound policy: lines 1-7. */
#define GOOD                                                                   \
	ROOT HEAD STE_AB CW_SET BOOT("A") VM("A", T("A"), T("A"))              \
		VM("B", T("B"), T("B")) TAIL

#define N32	"0123456789abcdef0123456789abcdef"
#define N64	N32 N32
#define NAME256 N64 N64 N64 N64

struct check_case {
	const char *name;
	const char *xml;
	bool parses;	/* schema-valid (else parsing fails) */
	bool self_warn; /* polc_check_opts.self_conflict_is_warning */
	size_t errors, warnings;
	const char *want[8]; /* substrings, in this order */
};

/* clang-format off: one case per block reads better than one field per
 * line. */
static const struct check_case cases[] = {
	{"good", GOOD, true, false, 0, 0, {NULL}},
	/* ---- duplicates ---- */
	{"dup-ste-type",
	 ROOT HEAD STE(T("A") T("B") "\n" T("A")) CW_AB BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: duplicate STE type 'A' (first at line 3)"}},
	{"dup-cw-type",
	 ROOT HEAD STE_AB CW(T("A") "\n" T("B") T("A"), "") BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: duplicate Chinese Wall type 'A' (first at "
	  "line 4)"}},
	{"dup-vm-label",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM("B", T("B"), T("B")) VM("A", T("B"), T("B")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:8: error: duplicate VM label 'A' (first at line 6)"}},
	{"dup-resource-label",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 TAIL_RES(RES("R", T("A")) RES("A", T("A")) RES("R", T("B"))),
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:11: error: duplicate resource label 'R' (first at line "
	  "9)"}},
	{"vm-and-resource-may-share-a-name",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 TAIL_RES(RES("A", T("A"))),
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	{"dup-conflict-set",
	 ROOT HEAD STE_AB CW(
		 T("A") T("B"),
		 SETS(SET("S", T("A") T("B")) "\n" SET("S", T("B") T("A"))))
		 BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: duplicate conflict set 'S' (first at line 4)"}},
	{"dup-type-in-label",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A") T("B") T("A"), T("A"))
		 TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' lists STE type 'A' twice"}},
	{"dup-type-in-set",
	 ROOT HEAD STE_AB CW(T("A") T("B"),
			     SETS(SET("S", T("A") T("B") T("A")))) BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: conflict set 'S' lists Chinese Wall type 'A' "
	  "twice"}},
	/* ---- undeclared types, absent components ---- */
	{"undeclared-ste-type",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A") T("C"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' uses STE type 'C', which is not "
	  "declared in SimpleTypeEnforcementTypes"}},
	{"undeclared-cw-type",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("Z")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' uses Chinese Wall type 'Z', which "
	  "is not declared in ChineseWallTypes"}},
	{"undeclared-type-in-set",
	 ROOT HEAD STE_AB CW(T("A") T("B"), SETS(SET("S", T("A") T("X"))))
		 BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: conflict set 'S' uses Chinese Wall type 'X', "
	  "which is not declared in ChineseWallTypes"}},
	{"ste-type-without-ste-component",
	 ROOT HEAD "\n" CW_AB BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' uses STE type 'A' but the policy "
	  "has no SimpleTypeEnforcement component"}},
	{"cw-type-without-cw-component",
	 ROOT HEAD STE_AB "\n" BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' uses Chinese Wall type 'A' but the "
	  "policy has no ChineseWall component"}},
	{"resource-type-without-ste-component",
	 ROOT HEAD "\n" CW_AB BOOT("A") VM_CW("A", T("A"))
		 TAIL_RES(RES("R", T("A"))),
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:9: error: resource label 'R' uses STE type 'A' but the "
	  "policy has no SimpleTypeEnforcement component"}},
	{"empty-type-in-declaration",
	 ROOT HEAD STE(T("A") "<Type> </Type>") CW_AB BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: empty <Type/> in SimpleTypeEnforcementTypes: a "
	  "declared type needs a name"}},
	{"empty-type-in-label-means-none",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A") "<Type/>", "<Type/>")
		 TAIL,
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	/* ---- bootstrap ---- */
	{"bootstrap-missing-label",
	 ROOT HEAD STE_AB CW_AB BOOT("Nope") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: bootstrap label 'Nope' is not a VM label"}},
	{"bootstrap-is-resource",
	 ROOT HEAD STE_AB CW_AB BOOT("R") VM("A", T("A"), T("A"))
		 TAIL_RES(RES("R", T("A"))),
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: bootstrap label 'R' is not a VM label (only a "
	  "resource label has that name)"}},
	{"bootstrap-empty",
	 ROOT HEAD STE_AB CW_AB BOOT("") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: SubjectLabels has no bootstrap label"}},
	{"bootstrap-whitespace",
	 ROOT HEAD STE_AB CW_AB BOOT(" A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: bootstrap label ' A' has whitespace at an end"}},
	/* ---- conflict sets ---- */
	{"conflict-set-empty-name",
	 ROOT HEAD STE_AB CW(T("A") T("B"), SETS(SET("", T("A") T("B"))))
		 BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: conflict set with an empty name"}},
	{"conflict-set-no-types",
	 ROOT HEAD STE_AB CW(T("A") T("B"), SETS(SET("S", "<Type/>"))) BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 2,
	 0,
	 {"t.xml:4: error: empty <Type/> in conflict set 'S'",
	  "t.xml:4: error: conflict set 'S' has no types"}},
	{"conflict-set-one-type",
	 ROOT HEAD STE_AB CW(T("A") T("B"), SETS(SET("S", T("A")))) BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 0,
	 1,
	 {"t.xml:4: warning: conflict set 'S' has only one type: it "
	  "excludes nothing"}},
	{"self-conflict",
	 ROOT HEAD STE_AB CW_SET BOOT(
		 "A") "<VirtualMachineLabel><Name>A</"
		      "Name><ChineseWallTypes>\n" T("A") "\n" T(
			      "B") "</ChineseWallTypes>"
				   "</VirtualMachineLabel>\n" TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:8: error: VM label 'A' holds Chinese Wall types 'A' and "
	  "'B' of conflict set 'AB': a domain with it conflicts with "
	  "itself"}},
	{"self-conflict-as-warning",
	 ROOT HEAD STE_AB CW_SET BOOT("A") VM_CW("A", T("B") T("A")) TAIL,
	 true,
	 true,
	 0,
	 1,
	 {"t.xml:6: warning: VM label 'A' holds Chinese Wall types 'B' and "
	  "'A' of conflict set 'AB'"}},
	{"label-without-types",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM("E", "<Type/>", "<Type/>") TAIL,
	 true,
	 false,
	 0,
	 1,
	 {"t.xml:7: warning: VM label 'E' has no types"}},
	/* ---- names ---- */
	{"colon-in-policy-name",
	 ROOT
	 "<PolicyHeader><PolicyName>a:b</PolicyName></PolicyHeader>\n" STE_AB
		 CW_AB BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: PolicyName 'a:b' contains ':'"}},
	{"colon-in-label-and-type",
	 ROOT HEAD STE(T("A") T("B:c")) CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM("x:y", T("A"), T("A")) TAIL,
	 true,
	 false,
	 2,
	 0,
	 {"t.xml:3: error: STE type 'B:c' contains ':'",
	  "t.xml:7: error: VM label 'x:y' contains ':'"}},
	{"control-character-in-name",
	 ROOT HEAD STE(T("A") T("B&#9;C")) CW_AB BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: STE type 'B\\x09C' contains a control "
	  "character"}},
	{"name-too-long",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM(NAME256, T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:7: error: VM label '0123456789abcdef", "is longer than 255 "
							"bytes"}},
	{"name-255-is-fine",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM(N64 N64 N64 "0123456789abcdef0123456789abcdef0123456789"
				"abcdef0123456789abcde",
		    T("A"), T("A")) TAIL,
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	{"conflict-name-whitespace",
	 ROOT HEAD STE_AB CW(T("A") T("B"), SETS(SET("S ", T("A") T("B"))))
		 BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: conflict set name 'S ' has whitespace at an "
	  "end"}},
	{"text-is-trimmed",
	 ROOT HEAD STE(T("A") T("\n  B \t")) CW_AB BOOT("A")
		 VM("A", T(" A "), T("A")) VM("  B", T("B"), "<Type>\n</Type>")
			 TAIL,
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	{"reserved-names",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 VM("__INACCESSIBLE__", T("A"), T("A")) TAIL_RES(RES(
			 "__NULL_LABEL__",
			 T("A")) "<ResourceLabel><Name>__INACCESSIBLE__</Name>"
				 "</ResourceLabel>\n"),
	 true,
	 false,
	 2,
	 0,
	 {"t.xml:7: error: '__INACCESSIBLE__' is reserved",
	  "t.xml:10: error: resource label name '__NULL_LABEL__' is "
	  "reserved"}},
	{"inaccessible-with-types",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 TAIL_RES(RES("__INACCESSIBLE__", T("A"))),
	 true,
	 false,
	 0,
	 1,
	 {"t.xml:9: warning: resource label '__INACCESSIBLE__' always "
	  "denies: its types are ignored"}},
	{"unlabeled-is-ordinary",
	 ROOT HEAD STE(T("A") T("__UNLABELED__")) CW_AB BOOT("A")
		 VM("A", T("A") T("__UNLABELED__"),
		    T("A")) VM_STE("__UNLABELED__", T("__UNLABELED__"))
			 TAIL_RES(RES("__UNLABELED__", T("__UNLABELED__"))),
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	/* ---- renames and updates ---- */
	{"rename-from-itself",
	 ROOT HEAD STE_AB CW_AB BOOT(
		 "A") "<VirtualMachineLabel><Name from=\"A\">A</Name>"
		      "<ChineseWallTypes>" T(
			      "A") "</ChineseWallTypes>"
				   "</VirtualMachineLabel>\n" TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: VM label 'A' is renamed from itself "
	  "(from='A')"}},
	{"rename-source-used-twice",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM(
		 "A", T("A"),
		 T("A")) "<VirtualMachineLabel><Name from=\"old\">B</Name>"
			 "<ChineseWallTypes>" T(
				 "B") "</ChineseWallTypes>"
				      "</VirtualMachineLabel>\n"
				      "<VirtualMachineLabel><Name "
				      "from=\"old\">C</Name>"
				      "<ChineseWallTypes>" T(
					      "B") "</ChineseWallTypes>"
						   "</"
						   "VirtualMachineLabel>"
						   "\n" TAIL_RES(
							   "<ResourceLabel><"
							   "Name "
							   "from=\"old\">R</"
							   "Name>"
							   "<SimpleTypeEnforcem"
							   "entTypes>" T(
								   "A") "</"
									"Simple"
									"TypeEn"
									"forcem"
									"entTyp"
									"es></"
									"Resour"
									"ceLabe"
									"l>\n"),
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:8: error: from='old' is used twice: VM labels at lines 7 "
	  "and 8 both rename it"}},
	{"rename-source-bad-name",
	 ROOT HEAD STE_AB CW_AB BOOT(
		 "A") "<VirtualMachineLabel><Name from=\"a:b\">A</Name>"
		      "<ChineseWallTypes>" T(
			      "A") "</ChineseWallTypes>"
				   "</VirtualMachineLabel>\n" TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: rename source (from=) 'a:b' contains ':'"}},
	{"from-policy-version-not-lower",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName><Version>1.2</Version>"
	      "<FromPolicy><PolicyName>t</PolicyName><Version>1.2</Version>"
	      "</FromPolicy></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		      VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: FromPolicy Version 1.2 is not lower than the "
	  "policy's Version 1.2"}},
	{"from-policy-fine",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName><Version>2.0</Version>"
	      "<FromPolicy><PolicyName>t</PolicyName><Version>1.99</Version>"
	      "</FromPolicy></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		      VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 0,
	 0,
	 {NULL}},
	{"from-policy-bad-name",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName><Version>2.0</Version>"
	      "<FromPolicy><PolicyName></PolicyName><Version>1.0</Version>"
	      "</FromPolicy></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		      VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: empty FromPolicy PolicyName"}},
	/* ---- metadata ---- */
	{"metadata-too-long",
	 ROOT
	 "<PolicyHeader><PolicyName>t</PolicyName>\n<PolicyUrl>" NAME256 NAME256
		 NAME256 NAME256
	 "x</PolicyUrl></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: PolicyUrl is 1025 bytes long, more than 1024"}},
	{"metadata-control-character",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName>"
	      "<Date>Mon&#10;Tue</Date></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		      VM("A", T("A"), T("A")) TAIL,
	 true,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: Date 'Mon\\x0aTue' contains a control "
	  "character"}},
	/* ---- several faults: all reported, in line order ---- */
	{"many-errors-in-line-order",
	 ROOT HEAD STE(T("A") T("B") T("A")) CW_SET BOOT("Q") VM(
		 "A", T("A") T("Z"), T("A") T("B")) VM("A", T("B"), T("B"))
		 VM("E", "<Type/>", "<Type/>") TAIL_RES(RES("R", T("Y"))),
	 true,
	 false,
	 6,
	 1,
	 {"t.xml:3: error: duplicate STE type 'A'",
	  "t.xml:5: error: bootstrap label 'Q' is not a VM label",
	  "t.xml:6: error: VM label 'A' uses STE type 'Z'",
	  "t.xml:6: error: VM label 'A' holds Chinese Wall types 'A' and "
	  "'B'",
	  "t.xml:7: error: duplicate VM label 'A' (first at line 6)",
	  "t.xml:8: warning: VM label 'E' has no types",
	  "t.xml:11: error: resource label 'R' uses STE type 'Y'"}},
	/* ---- schema violations: parse fails, with the line ---- */
	{"schema-unknown-element",
	 ROOT HEAD STE_AB "<Bogus/>\n" BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: Element 'Bogus': This element is not "
	  "expected."}},
	{"schema-unknown-element-in-label",
	 ROOT HEAD STE_AB CW_AB BOOT(
		 "A") "<VirtualMachineLabel><Name>A</Name><Color>red</Color>"
		      "</VirtualMachineLabel>\n" TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:6: error: Element 'Color': This element is not "
	  "expected."}},
	{"schema-header-order",
	 ROOT
	 "<PolicyHeader><PolicyName>t</PolicyName>\n"
	 "<Version>1.0</Version>\n<Date>x</Date></PolicyHeader>\n" STE_AB CW_AB
		 BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: Element 'Date': This element is not "
	  "expected."}},
	{"schema-version-pattern",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName>\n"
	      "<Version>1x0</Version></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		      VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: Element 'Version': [facet 'pattern'] The value "
	  "'1x0' is not accepted"}},
	{"schema-version-too-many-digits",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName>\n"
	      "<Version>123456789.0</Version></PolicyHeader>\n" STE_AB CW_AB
		      BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: Element 'Version': [facet 'pattern']"}},
	{"schema-from-policy-without-version",
	 ROOT "<PolicyHeader><PolicyName>t</PolicyName>\n<FromPolicy>"
	      "<PolicyName>s</PolicyName><Version>1.0</Version></FromPolicy>"
	      "</PolicyHeader>\n" STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		      TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: Element 'FromPolicy': This element is not "
	  "expected."}},
	{"schema-bad-priority",
	 ROOT HEAD STE_AB
	 "<ChineseWall priority=\"Secondary\">"
	 "<ChineseWallTypes>" T("A") "</ChineseWallTypes>"
				     "</ChineseWall>\n" BOOT("A")
					     VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: Element 'ChineseWall', attribute 'priority'"}},
	{"schema-conflict-without-name",
	 ROOT HEAD STE_AB CW(T("A") T("B"),
			     SETS("<Conflict>" T("A") "</Conflict>")) BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: Element 'Conflict': The attribute 'name' is "
	  "required but missing."}},
	{"schema-missing-bootstrap",
	 ROOT HEAD STE_AB CW_AB "<SecurityLabelTemplate><SubjectLabels>\n" VM(
		 "A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: Element 'SubjectLabels': The attribute "
	  "'bootstrap' is required but missing."}},
	{"schema-resource-with-chwall-types",
	 ROOT HEAD STE_AB CW_AB BOOT("A") VM("A", T("A"), T("A"))
		 TAIL_RES("<ResourceLabel><Name>R</Name>"
			  "<ChineseWallTypes>" T("A") "</ChineseWallTypes>"
						      "</ResourceLabel>\n"),
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:9: error: Element 'ChineseWallTypes': This element is not "
	  "expected."}},
	{"schema-no-vm-label",
	 ROOT HEAD STE_AB CW_AB BOOT("A") TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:5: error: Element 'SubjectLabels': Missing child "
	  "element(s)."}},
	{"schema-wrong-namespace",
	 "<SecurityPolicyDefinition xmlns=\"http://example.com\">\n"
	 "<PolicyHeader/></SecurityPolicyDefinition>\n",
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:1: error: Element '{http://example.com}"
	  "SecurityPolicyDefinition': No matching global declaration"}},
	{"schema-errors-sorted-by-line",
	 ROOT "<PolicyHeader>\n<PolicyName>t</PolicyName><Bad/>\n"
	      "</PolicyHeader>\n</SecurityPolicyDefinition>\n",
	 false,
	 false,
	 2,
	 0,
	 {"t.xml:1: error: Element 'SecurityPolicyDefinition': Missing "
	  "child element(s).",
	  "t.xml:3: error: Element 'Bad': This element is not expected."}},
	/* ---- hostile documents: a clean error, nothing else ---- */
	{"billion-laughs",
	 "<?xml version=\"1.0\"?>\n"
	 "<!DOCTYPE lolz [\n"
	 " <!ENTITY lol \"lol\">\n"
	 " <!ENTITY l2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	 " <!ENTITY l3 \"&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;\">\n"
	 " <!ENTITY l4 \"&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;\">\n"
	 " <!ENTITY l5 \"&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;\">\n"
	 " <!ENTITY l6 \"&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;\">\n"
	 " <!ENTITY l7 \"&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;\">\n"
	 " <!ENTITY l8 \"&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;\">\n"
	 " <!ENTITY l9 \"&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;\">\n"
	 "]>\n" ROOT
	 "<PolicyHeader><PolicyName>&l9;</PolicyName></PolicyHeader>\n"
	 "</SecurityPolicyDefinition>\n",
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: DOCTYPE is not allowed in a policy"}},
	{"external-entity",
	 "<?xml version=\"1.0\"?>\n"
	 "<!DOCTYPE p [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n" ROOT
	 "<PolicyHeader><PolicyName>&xxe;</PolicyName></PolicyHeader>\n" STE_AB
		 CW_AB BOOT("A") VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: DOCTYPE is not allowed in a policy"}},
	{"external-dtd",
	 "<?xml version=\"1.0\"?>\n"
	 "<!DOCTYPE SecurityPolicyDefinition SYSTEM "
	 "\"http://127.0.0.1:9/x.dtd\">\n" GOOD,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: DOCTYPE is not allowed in a policy"}},
	{"parameter-entity",
	 "<!DOCTYPE p [ <!ENTITY % pe SYSTEM \"file:///etc/passwd\"> %pe; "
	 "]>\n" GOOD,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:1: error: DOCTYPE is not allowed in a policy"}},
	{"xinclude-is-not-processed",
	 "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\" "
	 "xmlns:xi=\"http://www.w3.org/2001/XInclude\">\n"
	 "<PolicyHeader><PolicyName><xi:include href=\"/etc/passwd\" "
	 "parse=\"text\"/></PolicyName></PolicyHeader>\n" STE_AB CW_AB BOOT("A")
		 VM("A", T("A"), T("A")) TAIL,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:2: error: Element 'PolicyName': Element content is not "
	  "allowed"}},
	{"invalid-utf8",
	 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" ROOT
	 "<PolicyHeader><PolicyName>\xff\xfe</PolicyName></PolicyHeader>\n"
	 "</SecurityPolicyDefinition>\n",
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:3: error: Input is not proper UTF-8"}},
	{"not-well-formed",
	 ROOT HEAD "<SimpleTypeEnforcement>\n</ChineseWall>\n",
	 false,
	 false,
	 2,
	 0,
	 {"t.xml:4: error: Opening and ending tag mismatch: "
	  "SimpleTypeEnforcement line 3 and ChineseWall"}},
	{"truncated",
	 ROOT HEAD STE_AB,
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:4: error: Premature end of data in tag "
	  "SecurityPolicyDefinition line 1"}},
	{"empty-input",
	 "",
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:1: error: Document is empty"}},
	{"not-xml",
	 "policy: yes\n",
	 false,
	 false,
	 1,
	 0,
	 {"t.xml:1: error: Start tag expected, '<' not found"}},
};
/* clang-format on */

static char *diag_text(const struct polc_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	polc_diags_print(d, f);
	fclose(f);
	return text;
}

/* Every printed line must be a diagnostic: nothing leaks from libxml2. */
static bool all_lines_are_diags(const char *text)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, "t.xml:", 6) != 0 || !nl)
			return false;
		if (!strstr(line, ": error: ") && !strstr(line, ": warning: "))
			return false;
		line = nl + 1;
	}
	return true;
}

static void run_case(const struct check_case *c)
{
	struct polc_check_opts copts = {.self_conflict_is_warning =
						c->self_warn};
	struct polc_diags d = {.path = "t.xml"};
	struct polc_policy p;
	const char *at;
	char *text;
	bool parsed;
	size_t i;

	parsed = polc_parse_xml_mem(c->xml, strlen(c->xml), "t.xml", NULL, &p,
				    &d) == 0;
	if (parsed) {
		polc_check(&p, &copts, &d);
		polc_policy_free(&p);
	}
	text = diag_text(&d);
	TH_CHECK(parsed == c->parses, "%s: parse %s, wanted %s\n%s", c->name,
		 parsed ? "succeeded" : "failed",
		 c->parses ? "success" : "failure", text);
	TH_CHECK(d.n_errors == c->errors && d.n_warnings == c->warnings,
		 "%s: %zu errors and %zu warnings, wanted %zu and %zu\n%s",
		 c->name, d.n_errors, d.n_warnings, c->errors, c->warnings,
		 text);
	TH_CHECK(all_lines_are_diags(text), "%s: stray output\n%s", c->name,
		 text);
	at = text;
	for (i = 0; i < TH_ARRAY_LEN(c->want) && c->want[i]; i++) {
		const char *hit = strstr(at, c->want[i]);

		if (!TH_CHECK(hit,
			      "%s: wanted (in this order) \"%s\"\ngot:\n%s",
			      c->name, c->want[i], text))
			break;
		at = hit + strlen(c->want[i]);
	}
	free(text);
	polc_diags_free(&d);
}

/* Size bounds, before libxml2 sees a byte. */
static void size_limits(void)
{
	struct polc_parse_opts small = {.max_file_bytes = 100};
	struct polc_diags d = {.path = "t.xml"};
	struct polc_policy p;
	size_t big_len = (16u << 20) + 1;
	char *big, *text;
	int r;

	r = polc_parse_xml_mem(GOOD, strlen(GOOD), "t.xml", &small, &p, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && d.n_errors == 1 &&
			 strstr(text, "t.xml: error: policy is ") &&
			 strstr(text, "more than the limit of 100 bytes"),
		 "max_file_bytes=100 refused\n%s", text);
	free(text);
	polc_diags_free(&d);

	/* The default bound is 16 MiB: one byte more is refused without
	 * parsing (the buffer is not even a document). */
	big = malloc(big_len);
	if (!big)
		abort();
	memset(big, ' ', big_len);
	r = polc_parse_xml_mem(big, big_len, "t.xml", NULL, &p, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && d.n_errors == 1 &&
			 strstr(text, "more than the limit of 16777216 bytes"),
		 "16 MiB + 1 refused by default\n%s", text);
	free(text);
	free(big);
	polc_diags_free(&d);
}

/* The same bound on a file, checked before it is read. */
static void file_size_limit(void)
{
	struct polc_parse_opts opts = {.max_file_bytes = 16};
	struct polc_diags d = {0};
	struct polc_policy p;
	char path[] = "/tmp/hvsec-test-check-XXXXXX";
	char *text;
	int fd = mkstemp(path), r;

	if (fd < 0 || write(fd, GOOD, 17) != 17)
		abort();
	close(fd);
	r = polc_parse_xml(path, &opts, &p, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && d.n_errors == 1 &&
			 strstr(text, ": error: file is larger than the limit "
				      "of 16 bytes"),
		 "file over max_file_bytes refused\n%s", text);
	free(text);
	polc_diags_free(&d);
	unlink(path);
}

/* A schema from a file instead of the built-in one. */
static void schema_path(void)
{
	struct polc_parse_opts opts = {.xsd_path = NULL};
	struct polc_diags d = {.path = "t.xml"};
	struct polc_policy p;
	char *xsd, *text;
	int r;

	if (asprintf(&xsd, "%s/policies/security_policy.xsd", th_src_dir()) < 0)
		abort();
	opts.xsd_path = xsd;
	r = polc_parse_xml_mem(GOOD, strlen(GOOD), "t.xml", &opts, &p, &d);
	TH_CHECK(r == 0 && d.n == 0, "policies/security_policy.xsd from disk");
	if (r == 0)
		polc_policy_free(&p);
	opts.xsd_path = "/nonexistent/schema.xsd";
	r = polc_parse_xml_mem(GOOD, strlen(GOOD), "t.xml", &opts, &p, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && d.n_errors == 1 &&
			 strstr(text, "t.xml: error: cannot read schema "
				      "/nonexistent/schema.xsd: No such file"),
		 "missing schema file\n%s", text);
	free(text);
	free(xsd);
	polc_diags_free(&d);
}

/* Deep nesting stops at libxml2's depth limit (no XML_PARSE_HUGE). */
static void deep_nesting(void)
{
	const size_t depth = 100000;
	struct polc_diags d = {.path = "t.xml"};
	struct polc_policy p;
	char *doc, *text;
	size_t i, o = 0;
	int r;

	doc = malloc(depth * 7 + 1);
	if (!doc)
		abort();
	for (i = 0; i < depth; i++, o += 3)
		memcpy(doc + o, "<a>", 3);
	for (i = 0; i < depth; i++, o += 4)
		memcpy(doc + o, "</a>", 4);
	doc[o] = 0;
	r = polc_parse_xml_mem(doc, o, "t.xml", NULL, &p, &d);
	text = diag_text(&d);
	TH_CHECK(r == -1 && d.n_errors >= 1 &&
			 strstr(text, "t.xml:1: error: Excessive depth"),
		 "deep nesting refused\n%s", text);
	free(text);
	free(doc);
	polc_diags_free(&d);
}

/* Whatever the failure, the caller's diags path is kept, and a NULL one
 * is filled from the argument. */
static void diag_paths(void)
{
	struct polc_diags d = {0};
	struct polc_policy p;
	char *text;

	polc_parse_xml_mem("<x/>", 4, "given.xml", NULL, &p, &d);
	text = diag_text(&d);
	TH_CHECK(strncmp(text, "given.xml:1: error: ", 20) == 0,
		 "path taken from the argument\n%s", text);
	free(text);
	polc_diags_free(&d);
}

int main(void)
{
	size_t i;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++)
		run_case(&cases[i]);
	size_limits();
	file_size_limit();
	schema_path();
	deep_nesting();
	diag_paths();
	return th_done();
}
