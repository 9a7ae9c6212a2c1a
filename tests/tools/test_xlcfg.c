/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_xlcfg - the xl-style domain config parser: tables of good configs
 * (what each key becomes), of disk, vif and vtpm specs in every form
 * xl-disk-configuration(5) allows, of bad configs with the exact messages
 * printed, of hostile inputs (size, lines, NUL, nesting, floods), and of
 * resource names made canonical.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tools/xlcfg.h"

#define HEAD "name = 'd'\nkernel = '/k'\n"

/* Parses `cfg` as "t.cfg"; returns rc and all messages, one per line. */
static int parse(const char *cfg, size_t len, struct xlcfg *c, char *msgs,
		 size_t msgs_len)
{
	struct xlcfg_diags d = {0};
	size_t i, used = 0;
	int rc;

	rc = xlcfg_parse_mem(cfg, len, "t.cfg", c, &d);
	msgs[0] = '\0';
	for (i = 0; i < d.n; i++)
		used += (size_t)snprintf(msgs + used,
					 used < msgs_len ? msgs_len - used : 0,
					 "%s%s", i ? "\n" : "", d.v[i].text);
	xlcfg_diags_free(&d);
	return rc;
}

static int parse_str(const char *cfg, struct xlcfg *c, char *msgs, size_t len)
{
	return parse(cfg, strlen(cfg), c, msgs, len);
}

/* ------------------------------------------------------------ good */

static void test_full(void)
{
	static const char cfg[] =
		"# tenant A's web server\n"
		"name = \"acme-web\"\n"
		"uuid = '6F9619FF-8B86-D011-B42D-00C04FC964FF'\n"
		"type = 'pvh'\n"
		"kernel = \"/usr/lib/hvsec/guest\"; extra = \"--serve 8080\"\n"
		"memory = 0x200\n"
		"maxmem = 01000\n"
		"vcpus = '2'\n"
		"maxvcpus = 4\n"
		"on_crash = 'preserve'\n"
		"on_reboot = \"rename-restart\"\n"
		"seclabel = \"ACM:multi-tenant:Acme\"\n"
		"access_control = [ 'policy=multi-tenant, label=Acme' ]\n"
		"disk = [ 'phy:/dev/vg/acme,xvda,w',   # the system disk\n"
		"\n"
		"         'format=raw, vdev=xvdb, access=ro, "
		"target=/srv/img/acme, data.img',\n"
		"       ]\n"
		"vif = [ 'mac=00:16:3e:01:02:03, bridge=xenbr0.12', '' ]\n"
		"vtpm = [ \"backend=vtpmmgr,uuid=AC0A5B9E-CBE2-4C07-B43B-"
		"1F0D0BB5E7A3\" ]\n";
	struct xlcfg c;
	char msgs[2048];
	int rc = parse_str(cfg, &c, msgs, sizeof(msgs));

	if (!TH_CHECK(rc == 0 && !msgs[0], "full config: %d\n%s", rc, msgs))
		return;
	TH_CHECK(!strcmp(c.name, "acme-web") && c.name_line == 2 &&
			 !strcmp(c.path, "t.cfg"),
		 "name");
	TH_CHECK(c.has_uuid &&
			 !strcmp(c.uuid_str,
				 "6f9619ff-8b86-d011-b42d-00c04fc964ff") &&
			 c.uuid[0] == 0x6f && c.uuid[15] == 0xff,
		 "uuid %s", c.uuid_str);
	TH_CHECK(!strcmp(c.type, "pvh") &&
			 !strcmp(c.kernel, "/usr/lib/hvsec/guest") &&
			 !strcmp(c.extra, "--serve 8080"),
		 "kernel and extra");
	TH_CHECK(c.memory == 512 && c.maxmem == 512 && c.vcpus == 2 &&
			 c.maxvcpus == 4,
		 "numbers: %llu %llu %u %u", (unsigned long long)c.memory,
		 (unsigned long long)c.maxmem, c.vcpus, c.maxvcpus);
	TH_CHECK(c.on_crash == XLCFG_ACTION_PRESERVE &&
			 c.on_reboot == XLCFG_ACTION_RENAME_RESTART &&
			 c.on_poweroff == XLCFG_ACTION_DEFAULT &&
			 !strcmp(xlcfg_action_name(c.on_crash), "preserve"),
		 "actions");
	TH_CHECK(c.has_label && !strcmp(c.policy, "multi-tenant") &&
			 !strcmp(c.label, "Acme") && c.label_line == 12,
		 "label %s:%s line %u", c.policy, c.label, c.label_line);
	TH_CHECK(
		c.n_disks == 2 &&
			!strcmp(c.disks[0].resource, "phy:/dev/vg/acme") &&
			!strcmp(c.disks[0].vdev, "xvda") &&
			!c.disks[0].readonly && c.disks[0].line == 14 &&
			!strcmp(c.disks[1].target, "/srv/img/acme, data.img") &&
			!strcmp(c.disks[1].resource,
				"file:/srv/img/acme, data.img") &&
			c.disks[1].readonly && c.disks[1].line == 16,
		"disks");
	TH_CHECK(c.n_vifs == 2 && !strcmp(c.vifs[0].resource, "vlan:12") &&
			 !strcmp(c.vifs[0].mac, "00:16:3e:01:02:03") &&
			 !strcmp(c.vifs[1].resource, "bridge:xenbr0"),
		 "vifs");
	TH_CHECK(c.n_vtpms == 1 && !strcmp(c.vtpms[0].backend, "vtpmmgr") &&
			 !strcmp(c.vtpms[0].resource,
				 "vtpm:ac0a5b9e-cbe2-4c07-b43b-1f0d0bb5e7a3"),
		 "vtpm");
	xlcfg_free(&c);
}

/* Small good configs: the value each key takes, and any warning. */
static void test_good_table(void)
{
	static const struct {
		const char *what, *cfg, *msgs;
	} cases[] = {
		{"minimal", HEAD, ""},
		{"crlf", "name = 'd'\r\nkernel = '/k'\r\n", ""},
		{"no final newline", "name = 'd'\nkernel = '/k'", ""},
		{"semicolons", "name='d';kernel='/k';;\n", ""},
		{"last one wins", HEAD "memory = 256\nmemory = 512\n",
		 "t.cfg:4: warning: memory: set again; this value replaces "
		 "the one on line 3"},
		{"unknown keys", HEAD "vnc = 1\nvnuma = [ [ 'pnode=0' ] ]\n",
		 "t.cfg:3: warning: unknown key 'vnc' ignored\n"
		 "t.cfg:4: warning: unknown key 'vnuma' ignored"},
		{"access_control alone",
		 HEAD "access_control = ['policy=P,label=L']\n", ""},
		{"both label forms agree",
		 HEAD "seclabel='ACM:P:L'\naccess_control=['label=L,policy=P']"
		      "\n",
		 ""},
		{"escapes",
		 "name = 'd'\nkernel = '/k'\nextra = \"a\\tb\\x41"
		 "\\101\\\"\\'\\\\\"\n",
		 ""},
		{"list spanning lines",
		 HEAD "disk = [\n\n  '/dev/a,,xvda' ,\n # c\n  '/dev/b,,xvdb'"
		      ",\n\n]\n",
		 ""},
		{"+= appends",
		 HEAD "disk = ['/dev/a,,xvda']\ndisk += ['/dev/b,,xvdb']\n"
		      "extra = 'a'\nextra += ' b'\n",
		 ""},
		{"+= without a first value", HEAD "extra += 'x'\n", ""},
		{"empty lists", HEAD "disk = []\nvif = [ ]\n", ""},
		{"vif warning", HEAD "vif = ['rate=10Mb/s, colour=red']\n",
		 "t.cfg:3: warning: vif[0]: unknown parameter 'colour' "
		 "ignored"},
	};
	struct xlcfg c;
	char msgs[2048];
	size_t i;
	int rc;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		rc = parse_str(cases[i].cfg, &c, msgs, sizeof(msgs));
		TH_CHECK(rc == 0 && !strcmp(msgs, cases[i].msgs),
			 "%s: rc %d, messages:\n%s\nwanted:\n%s", cases[i].what,
			 rc, msgs, cases[i].msgs);
		if (rc == 0 && !strcmp(cases[i].what, "last one wins"))
			TH_CHECK(c.memory == 512, "last: %llu",
				 (unsigned long long)c.memory);
		if (rc == 0 && !strcmp(cases[i].what, "escapes"))
			TH_CHECK(!strcmp(c.extra, "a\tbAA\"'\\"), "escapes: %s",
				 c.extra);
		if (rc == 0 && !strcmp(cases[i].what, "+= appends"))
			TH_CHECK(c.n_disks == 2 && !strcmp(c.extra, "a b") &&
					 !strcmp(c.disks[1].vdev, "xvdb"),
				 "+=");
		if (rc == 0 && !strcmp(cases[i].what, "access_control alone"))
			TH_CHECK(c.has_label && !strcmp(c.policy, "P") &&
					 !strcmp(c.label, "L") &&
					 c.label_line == 3,
				 "access_control label");
		if (rc == 0 && !strcmp(cases[i].what, "minimal"))
			TH_CHECK(!c.has_label && !c.n_disks && !c.memory &&
					 !c.extra && !c.has_uuid,
				 "minimal defaults");
		xlcfg_free(&c);
	}
}

/* ------------------------------------------------------------ disks */

static void test_disks(void)
{
	static const struct {
		const char *spec, *resource, *vdev;
		bool ro, cdrom;
		enum xlcfg_disk_format fmt;
	} cases[] = {
		/* xl-disk-configuration(5)'s equivalent examples */
		{"/dev/vg/guest-volume,,hda", "phy:/dev/vg/guest-volume", "hda",
		 false, false, XLCFG_FMT_RAW},
		{"/dev/vg/guest-volume,raw,hda,rw", "phy:/dev/vg/guest-volume",
		 "hda", false, false, XLCFG_FMT_RAW},
		{"format=raw, vdev=hda, access=rw, "
		 "target=/dev/vg/guest-volume",
		 "phy:/dev/vg/guest-volume", "hda", false, false,
		 XLCFG_FMT_RAW},
		{"raw:/dev/vg/guest-volume,hda,w", "file:/dev/vg/guest-volume",
		 "hda", false, false, XLCFG_FMT_RAW},
		{"/root/image.iso,,hdc,cdrom", "file:/root/image.iso", "hdc",
		 true, true, XLCFG_FMT_RAW},
		{"/root/image.iso,,hdc,,cdrom", "file:/root/image.iso", "hdc",
		 true, true, XLCFG_FMT_RAW},
		{"/root/image.iso,raw,hdc,devtype=cdrom",
		 "file:/root/image.iso", "hdc", true, true, XLCFG_FMT_RAW},
		{"format=raw, vdev=hdc, access=ro, devtype=cdrom, "
		 "target=/root/image.iso",
		 "file:/root/image.iso", "hdc", true, true, XLCFG_FMT_RAW},
		{"raw:/root/image.iso,hdc:cdrom,ro", "file:/root/image.iso",
		 "hdc", true, true, XLCFG_FMT_RAW},
		/* the deprecated forms xm users write */
		{"phy:/dev/vg/x,xvda,w", "phy:/dev/vg/x", "xvda", false, false,
		 XLCFG_FMT_RAW},
		{"phy:vg/x,xvda,r", "phy:/dev/vg/x", "xvda", true, false,
		 XLCFG_FMT_RAW},
		{"file:/srv/a.img,xvda,w", "file:/srv/a.img", "xvda", false,
		 false, XLCFG_FMT_RAW},
		{"tap:aio:/srv/a.img,xvda,w", "file:/srv/a.img", "xvda", false,
		 false, XLCFG_FMT_RAW},
		{"tap:qcow2:/srv/a.qcow2,xvda,w", "file:/srv/a.qcow2", "xvda",
		 false, false, XLCFG_FMT_QCOW2},
		{",hdc:cdrom,r", NULL, "hdc", true, true, XLCFG_FMT_EMPTY},
		/* relative targets are under /dev, paths are folded */
		{"vg/x,,xvda", "phy:/dev/vg/x", "xvda", false, false,
		 XLCFG_FMT_RAW},
		{"/srv//img/./old/../a.img,qcow2,xvdb", "file:/srv/img/a.img",
		 "xvdb", false, false, XLCFG_FMT_QCOW2},
		{"backendtype=phy,/srv/disk,,xvda", "phy:/srv/disk", "xvda",
		 false, false, XLCFG_FMT_RAW},
		/* whitespace before a parameter is ignored */
		{"  /dev/a,  , \txvda", "phy:/dev/a", "xvda", false, false,
		 XLCFG_FMT_RAW},
		{"vdev=xvda,discard,direct-io-safe,target=/srv/a.img,",
		 "file:/srv/a.img", "xvda", false, false, XLCFG_FMT_RAW},
	};
	char cfg[1024], msgs[1024];
	struct xlcfg c;
	size_t i;
	int rc;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		snprintf(cfg, sizeof(cfg), HEAD "disk = [ '%s' ]\n",
			 cases[i].spec);
		rc = parse_str(cfg, &c, msgs, sizeof(msgs));
		if (!TH_CHECK(rc == 0 && c.n_disks == 1, "disk '%s': %s",
			      cases[i].spec, msgs)) {
			xlcfg_free(&c);
			continue;
		}
		TH_CHECK((cases[i].resource
				  ? c.disks[0].resource &&
					    !strcmp(c.disks[0].resource,
						    cases[i].resource)
				  : !c.disks[0].resource) &&
				 !strcmp(c.disks[0].vdev, cases[i].vdev) &&
				 c.disks[0].readonly == cases[i].ro &&
				 c.disks[0].cdrom == cases[i].cdrom &&
				 c.disks[0].format == cases[i].fmt,
			 "disk '%s': resource %s vdev %s ro %d cdrom %d fmt %d",
			 cases[i].spec,
			 c.disks[0].resource ? c.disks[0].resource : "(none)",
			 c.disks[0].vdev, c.disks[0].readonly, c.disks[0].cdrom,
			 c.disks[0].format);
		xlcfg_free(&c);
	}
}

/* Bad disk, vif and vtpm specs: the exact message. */
static void test_bad_devices(void)
{
	static const struct {
		const char *key, *spec, *msg;
	} cases[] = {
		{"disk", "phy:/dev/vg/x,xvda,rx",
		 "unknown value for access 'rx' in 'phy:/dev/vg/x,xvda,rx'"},
		{"disk", "phy:/dev/vg/x", "no vdev given in 'phy:/dev/vg/x'"},
		{"disk", ",,xvda",
		 "no target given (only a cdrom may be empty) in ',,xvda'"},
		{"disk", "foo:/x,xvda",
		 "unknown deprecated disk prefix 'foo:' in 'foo:/x,xvda'"},
		{"disk", "iscsi:iqn.2001-05.com.example:x,xvda",
		 "block scripts ('iscsi:') are not supported: the target is "
		 "not a host path to label in "
		 "'iscsi:iqn.2001-05.com.example:x,xvda'"},
		{"disk", "/x,raw,xvda,w,ro",
		 "too many positional parameters in '/x,raw,xvda,w,ro'"},
		{"disk", "file:/x/../../..,xvda",
		 "'/x/../../..' climbs above / in 'file:/x/../../..,xvda'"},
		{"disk", "file:rel.img,xvda",
		 "'rel.img' is not an absolute path in 'file:rel.img,xvda'"},
		{"disk", "vdev=xvda,vdev=xvdb,target=/x",
		 "vdev respecified in 'vdev=xvda,vdev=xvdb,target=/x'"},
		{"disk", "/x,qcow3,xvda",
		 "unknown value for format 'qcow3' in '/x,qcow3,xvda'"},
		{"disk", "/x,,XVDA", "bad vdev 'XVDA' in '/x,,XVDA'"},
		{"disk", "path=/x,xvda",
		 "unknown parameter 'path' in 'path=/x,xvda'"},
		{"disk", "/a=b,,xvda",
		 "bad disk syntax near '/a=b' (use target= last for a target "
		 "with '=' or ',') in '/a=b,,xvda'"},
		{"disk", "/x,,hdc:floppy",
		 "unknown deprecated type 'floppy' in '/x,,hdc:floppy'"},
		{"disk", "/x,,xvda,devtype=tape",
		 "unknown value for devtype 'tape' in '/x,,xvda,devtype=tape'"},
		{"disk", "/x,,xvda,script=block-nbd",
		 "block scripts (script=) are not supported: the target is "
		 "not a host path to label in '/x,,xvda,script=block-nbd'"},
		{"disk", "/x,,xvda,backendtype=vbox",
		 "unknown value for backendtype 'vbox' in "
		 "'/x,,xvda,backendtype=vbox'"},
		{"disk", "target=/srv/a,vdev=xvda",
		 "no vdev given in 'target=/srv/a,vdev=xvda'"},
		{"disk", "file:/,xvda",
		 "'/' names the root directory in "
		 "'file:/,xvda'"},
		{"vif", "mac=zz", "bad mac 'zz' (xx:xx:xx:xx:xx:xx)"},
		{"vif", "mac", "expected KEY=VALUE, got 'mac'"},
		{"vif", "mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02",
		 "mac given twice"},
		{"vif", "bridge=ovs0:10:20",
		 "bridge 'ovs0:10:20': VLAN trunks cannot be labelled"},
		{"vif", "bridge=xenbr0.5000",
		 "bad VLAN in bridge 'xenbr0.5000' (1-4095)"},
		{"vif", "bridge=a-bridge-name-too-long",
		 "bad bridge name 'a-bridge-name-too-long'"},
		{"vif", "bridge=br/0", "bad bridge name 'br/0'"},
		{"vtpm", "uuid=xyz", "'xyz' is not a UUID"},
		{"vtpm", "backend=", "backend given twice or empty"},
	};
	char cfg[1024], msgs[1024], want[1024];
	struct xlcfg c;
	size_t i;
	int rc;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		snprintf(cfg, sizeof(cfg), HEAD "%s = [ '%s' ]\n", cases[i].key,
			 cases[i].spec);
		snprintf(want, sizeof(want), "t.cfg:3: error: %s[0]: %s",
			 cases[i].key, cases[i].msg);
		rc = parse_str(cfg, &c, msgs, sizeof(msgs));
		TH_CHECK(rc == -1 && !strcmp(msgs, want) && !c.name,
			 "%s '%s': rc %d\n got: %s\nwant: %s", cases[i].key,
			 cases[i].spec, rc, msgs, want);
		xlcfg_free(&c);
	}
}

/* ------------------------------------------------------------ bad configs */

static void test_bad_table(void)
{
	static const struct {
		const char *what, *cfg, *msgs;
	} cases[] = {
		{"empty file", "",
		 "t.cfg: error: name: missing (every domain needs a name)\n"
		 "t.cfg: error: kernel: missing (the guest program to run)"},
		{"not a number", HEAD "memory = \"lots\"\n",
		 "t.cfg:3: error: memory: 'lots' is not a number"},
		{"number with a unit", HEAD "memory = 512M\n",
		 "t.cfg:3: error: memory: '512M' is not a number"},
		{"zero memory", HEAD "memory = 0\n",
		 "t.cfg:3: error: memory: 0 is out of range (1-16777216 MiB)"},
		{"bad octal", HEAD "vcpus = 08\n",
		 "t.cfg:3: error: vcpus: '08' is not a number"},
		{"huge", HEAD "vcpus = 99999999999999999999999\n",
		 "t.cfg:3: error: vcpus: '99999999999999999999999' is not a "
		 "number"},
		{"list for a number", HEAD "vcpus = [ 1 ]\n",
		 "t.cfg:3: error: vcpus: expected a single value, got a list"},
		{"maxmem below memory", HEAD "memory = 512\nmaxmem = 256\n",
		 "t.cfg:4: error: maxmem: 256 is less than memory (512)"},
		{"maxvcpus below vcpus", HEAD "vcpus = 4\nmaxvcpus = 2\n",
		 "t.cfg:4: error: maxvcpus: 2 is less than vcpus (4)"},
		{"unterminated string", "name = \"abc\nkernel = '/k'\n",
		 "t.cfg:1: error: name: unterminated string"},
		{"unknown escape", HEAD "extra = 'a\\qb'\n",
		 "t.cfg:3: error: extra: unknown escape '\\q' in a string"},
		{"NUL escape", HEAD "extra = 'a\\x00b'\n",
		 "t.cfg:3: error: extra: NUL byte in a string"},
		{"no =", "name \"x\"\n" HEAD,
		 "t.cfg:1: error: name: expected '=' after the key, got a "
		 "string"},
		{"uppercase key", "Name = \"x\"\n" HEAD,
		 "t.cfg:1: error: keys are lowercase: unexpected 'N'"},
		{"unclosed list at the end", HEAD "disk = [ '/dev/a,,xvda', ",
		 "t.cfg:3: error: disk: list not closed with ']'"},
		{"missing comma", HEAD "disk = [ '/a,,xvda' '/b,,xvdb' ]\n",
		 "t.cfg:3: error: disk: expected ',' or ']' in a list, got a "
		 "string"},
		{"two values", HEAD "extra = \"x\" \"y\"\n",
		 "t.cfg:3: error: extra: expected the end of the statement "
		 "after the value, got a string"},
		{"no key", HEAD "= 3\n",
		 "t.cfg:3: error: expected a key at the start of a statement, "
		 "got '='"},
		{"no value, then more", HEAD "extra =\nmemory = x\n",
		 "t.cfg:3: error: extra: expected a value, got the end of the "
		 "line\n"
		 "t.cfg:4: error: memory: expected a value, got a word"},
		{"unclosed list, then statements",
		 "disk = [ '/dev/a,,xvda',\nname = 'd'\nkernel = '/k'\n",
		 "t.cfg:2: error: disk: expected a value, got a word"},
		{"stray character", HEAD "extra = @\n",
		 "t.cfg:3: error: extra: unexpected character '@'"},
		{"control byte", HEAD "\x01\n",
		 "t.cfg:3: error: unexpected byte 0x01"},
		{"+= of different kinds", HEAD "disk = []\ndisk += 'x'\n",
		 "t.cfg:4: error: disk: '+=' cannot add a string to a list"},
		{"seclabel without ACM",
		 HEAD "seclabel = 'multi-tenant:Acme'\n",
		 "t.cfg:3: error: seclabel: 'multi-tenant:Acme' is not "
		 "ACM:POLICY:LABEL"},
		{"seclabel with 4 parts", HEAD "seclabel = 'ACM:p:a:b'\n",
		 "t.cfg:3: error: seclabel: 'ACM:p:a:b' is not "
		 "ACM:POLICY:LABEL"},
		{"seclabel empty label", HEAD "seclabel = 'ACM:p:'\n",
		 "t.cfg:3: error: seclabel: the label is empty"},
		{"seclabel twice",
		 HEAD "seclabel = 'ACM:p:a'\nseclabel = 'ACM:p:b'\n",
		 "t.cfg:4: error: seclabel: given twice (lines 3 and 4)"},
		{"labels disagree",
		 HEAD "seclabel = 'ACM:multi-tenant:Acme'\n"
		      "access_control = ['policy=multi-tenant,label=Globex']\n",
		 "t.cfg:3: error: seclabel: 'ACM:multi-tenant:Acme' "
		 "disagrees with access_control on line 4 "
		 "(policy=multi-tenant,label=Globex)"},
		{"access_control not a list",
		 HEAD "access_control = 'policy=p,label=l'\n",
		 "t.cfg:3: error: access_control: expected one entry "
		 "['policy=NAME,label=LABEL']"},
		{"access_control without label",
		 HEAD "access_control = ['policy=p']\n",
		 "t.cfg:3: error: access_control: no label given"},
		{"access_control extra parameter",
		 HEAD "access_control = ['policy=p,label=l,type=t']\n",
		 "t.cfg:3: error: access_control: unknown or repeated "
		 "parameter 'type'"},
		{"access_control bare word",
		 HEAD "access_control = ['policy=p,label']\n",
		 "t.cfg:3: error: access_control: expected KEY=VALUE, got "
		 "'label'"},
		{"disk not a list", HEAD "disk = '/dev/a,,xvda'\n",
		 "t.cfg:3: error: disk: expected a list [ '...', ... ], got a "
		 "string"},
		{"disk item not a string", HEAD "disk = [ 1, ['x'] ]\n",
		 "t.cfg:3: error: disk[0]: expected a string, got a number\n"
		 "t.cfg:3: error: disk[1]: expected a string, got a list"},
		{"second disk bad, line named",
		 HEAD "disk = [ '/dev/a,,xvda',\n         '/dev/b' ]\n",
		 "t.cfg:4: error: disk[1]: no vdev given in '/dev/b'"},
		{"bad action", HEAD "on_crash = 'explode'\n",
		 "t.cfg:3: error: on_crash: unknown action 'explode' "
		 "(destroy, restart, rename-restart, preserve, "
		 "coredump-destroy, coredump-restart, soft-reset)"},
		{"bad uuid", HEAD "uuid = 'nope'\n",
		 "t.cfg:3: error: uuid: 'nope' is not a UUID "
		 "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"},
		{"bad type", HEAD "type = 'xen'\n",
		 "t.cfg:3: error: type: unknown type 'xen' (pv, pvh, hvm)"},
		{"bad name", "name = 'my domain'\nkernel = '/k'\n",
		 "t.cfg:1: error: name: 'my domain' is not a domain name "
		 "(1-64 letters, digits, '_', '-' or '.', starting with a "
		 "letter or digit)"},
		{"empty kernel", "name = 'd'\nkernel = ''\n",
		 "t.cfg:2: error: kernel: must not be empty"},
		{"key too long",
		 HEAD
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaa = 1\n",
		 "t.cfg:3: error: key longer than 64 characters"},
		{"nested too deep", HEAD "vnuma = [[[[[ 1 ]]]]]\n",
		 "t.cfg:3: error: vnuma: lists nested deeper than 4"},
	};
	struct xlcfg c;
	char msgs[4096];
	size_t i;
	int rc;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		rc = parse_str(cases[i].cfg, &c, msgs, sizeof(msgs));
		TH_CHECK(rc == -1 && !strcmp(msgs, cases[i].msgs) && !c.name &&
				 !c.disks,
			 "%s: rc %d\n got: %s\nwant: %s", cases[i].what, rc,
			 msgs, cases[i].msgs);
		xlcfg_free(&c);
	}
}

/* ------------------------------------------------------------ hostile */

static void test_hostile(void)
{
	struct xlcfg c;
	char msgs[16384];
	char *buf;
	size_t n, i;
	int rc;

	/* Larger than allowed: refused before it is read further. */
	buf = malloc(XLCFG_MAX_FILE + 2);
	memset(buf, '#', XLCFG_MAX_FILE + 1);
	rc = parse(buf, XLCFG_MAX_FILE + 1, &c, msgs, sizeof(msgs));
	TH_CHECK(rc == -1 && !strcmp(msgs, "t.cfg: error: file larger than "
					   "1048576 bytes"),
		 "too large: %s", msgs);

	/* A line too long, even inside a comment. */
	n = strlen(HEAD);
	memset(buf, 'x', n + XLCFG_MAX_LINE + 1);
	memcpy(buf, HEAD "#", n + 1);
	rc = parse(buf, n + XLCFG_MAX_LINE + 1, &c, msgs, sizeof(msgs));
	TH_CHECK(rc == -1, "long line refused");
	rc = parse(buf, n + XLCFG_MAX_LINE, &c, msgs, sizeof(msgs));
	TH_CHECK(rc == 0, "a line of exactly the maximum is fine: %s", msgs);
	xlcfg_free(&c);
	rc = parse(buf, n + XLCFG_MAX_LINE + 1, &c, msgs, sizeof(msgs));
	TH_CHECK(rc == -1 && !strcmp(msgs, "t.cfg:3: error: line longer than "
					   "4096 bytes"),
		 "long line: %s", msgs);

	/* A NUL byte. */
	memcpy(buf, HEAD "extra = 'a\0b'\n", sizeof(HEAD "extra = 'a\0b'\n"));
	rc = parse(buf, sizeof(HEAD "extra = 'a\0b'\n") - 1, &c, msgs,
		   sizeof(msgs));
	TH_CHECK(rc == -1 && !strcmp(msgs, "t.cfg:3: error: NUL byte in the "
					   "file"),
		 "NUL: %s", msgs);

	/* Too many values in a list. */
	n = (size_t)snprintf(buf, XLCFG_MAX_FILE, HEAD "vnuma = [");
	for (i = 0; i < XLCFG_MAX_ITEMS + 1; i++)
		n += (size_t)snprintf(buf + n, XLCFG_MAX_FILE - n, "%s1\n",
				      i ? "," : "");
	n += (size_t)snprintf(buf + n, XLCFG_MAX_FILE - n, "]\n");
	rc = parse(buf, n, &c, msgs, sizeof(msgs));
	TH_CHECK(rc == -1 && !strcmp(msgs, "t.cfg:259: error: vnuma: more "
					   "than 256 values in a list"),
		 "too many items: %s", msgs);

	/* A flood of errors: the first XLCFG_MAX_DIAGS, then one line. */
	n = 0;
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, XLCFG_MAX_FILE - n, "= 1\n");
	rc = parse(buf, n, &c, msgs, sizeof(msgs));
	{
		size_t lines = 1;
		const char *p;

		for (p = msgs; *p; p++)
			lines += *p == '\n';
		TH_CHECK(rc == -1 && lines == XLCFG_MAX_DIAGS + 1 &&
				 strstr(msgs, "t.cfg: error: too many "
					      "problems, giving up") != NULL,
			 "flood: %zu lines", lines);
	}

	/* A flood of warnings does not fail a good config. */
	n = (size_t)snprintf(buf, XLCFG_MAX_FILE, HEAD);
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, XLCFG_MAX_FILE - n,
				      "unknown%zu = 1\n", i);
	{
		struct xlcfg_diags d = {0};

		rc = xlcfg_parse_mem(buf, n, "t.cfg", &c, &d);
		TH_CHECK(rc == 0 && d.n == XLCFG_MAX_DIAGS &&
				 d.n_warnings == 200 && d.n_errors == 0,
			 "warnings: rc %d kept %zu counted %zu", rc, d.n,
			 d.n_warnings);
		xlcfg_diags_free(&d);
		xlcfg_free(&c);
	}

	/* Every byte value in a string, escaped or not: no crash. */
	for (i = 1; i < 256; i++) {
		n = (size_t)snprintf(buf, 64, HEAD "extra = '%c'\n", (int)i);
		parse(buf, n, &c, msgs, sizeof(msgs));
		xlcfg_free(&c);
	}
	free(buf);

	/* Bad arguments. */
	{
		struct xlcfg_diags d = {0};

		TH_CHECK(xlcfg_parse_mem(NULL, 0, "t.cfg", &c, &d) == -1 &&
				 xlcfg_parse_mem("", 0, NULL, NULL, &d) == -1,
			 "NULL arguments");
		xlcfg_diags_free(&d);
		TH_CHECK(xlcfg_parse_file("/nonexistent/x.cfg", &c, &d) == -1 &&
				 d.n == 1 &&
				 !strcmp(d.v[0].text,
					 "/nonexistent/x.cfg: error: cannot "
					 "open: No such file or directory"),
			 "missing file: %s", d.n ? d.v[0].text : "");
		xlcfg_diags_free(&d);
		xlcfg_free(NULL);
	}
}

static void test_file(void)
{
	char path[] = "/tmp/hvsec-xlcfg-XXXXXX";
	struct xlcfg_diags d = {0};
	struct xlcfg c;
	int fd = mkstemp(path), rc;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!TH_CHECK(f, "temp file"))
		return;
	fputs(HEAD "disk = ['phy:/dev/vg/a,xvda,w']\n", f);
	fclose(f);
	rc = xlcfg_parse_file(path, &c, &d);
	TH_CHECK(rc == 0 && !strcmp(c.path, path) && c.n_disks == 1,
		 "from a file: %d", rc);
	xlcfg_free(&c);
	xlcfg_diags_free(&d);
	unlink(path);
}

/* ------------------------------------------------------------ resources */

static void test_canonical(void)
{
	static const struct {
		const char *in, *out; /* out NULL: error, `why` in msg */
		const char *why;
	} cases[] = {
		{"phy:/dev/vg//x/", "phy:/dev/vg/x", NULL},
		{"phy:vg/x", "phy:/dev/vg/x", NULL},
		{"/dev/sda", "phy:/dev/sda", NULL},
		{"/srv/a.img", "file:/srv/a.img", NULL},
		{"file:/srv/./a/../b.img", "file:/srv/b.img", NULL},
		{"tap:aio:/i.img", "file:/i.img", NULL},
		{"tap2:tapdisk:aio:/i", "file:/i", NULL},
		{"raw:/i", "file:/i", NULL},
		{"vlan:7", "vlan:7", NULL},
		{"vlan:4095", "vlan:4095", NULL},
		{"bridge:xenbr0", "bridge:xenbr0", NULL},
		{"vtpm:AC0A5B9E-CBE2-4C07-B43B-1F0D0BB5E7A3",
		 "vtpm:ac0a5b9e-cbe2-4c07-b43b-1f0d0bb5e7a3", NULL},
		{"vlan:007", NULL, "'vlan:007': a VLAN is a number 1-4095"},
		{"vlan:0", NULL, "'vlan:0': a VLAN is a number 1-4095"},
		{"vlan:4096", NULL, "'vlan:4096': a VLAN is a number 1-4095"},
		{"vlan:-1", NULL, "'vlan:-1': a VLAN is a number 1-4095"},
		{"vlan:", NULL, "'vlan:': a VLAN is a number 1-4095"},
		{"bridge:this-name-is-too-long", NULL,
		 "'bridge:this-name-is-too-long': a bridge is 1-15 of "
		 "[A-Za-z0-9_.-]"},
		{"vtpm:nope", NULL, "'vtpm:nope': not a vTPM UUID"},
		{"nbd:host:1", NULL,
		 "'nbd:host:1': unknown kind of resource (phy:, file:, vlan:, "
		 "bridge:, vtpm:)"},
		{"relative.img", NULL,
		 "'relative.img': unknown kind of resource (phy:, file:, "
		 "vlan:, bridge:, vtpm:)"},
		{"file:", NULL, "file: empty path"},
		{"file:/", NULL, "'/' names the root directory"},
		{"file:/a/../..", NULL, "'/a/../..' climbs above /"},
		{"phy:/dev/x\ny", NULL, "phy: control character in the path"},
		{"", NULL,
		 "'': unknown kind of resource (phy:, file:, vlan:, bridge:, "
		 "vtpm:)"},
	};
	char out[256], why[256];
	size_t i;
	int rc;

	for (i = 0; i < TH_ARRAY_LEN(cases); i++) {
		rc = xlcfg_canonical_resource(cases[i].in, 0, out, sizeof(out),
					      why, sizeof(why));
		if (cases[i].out)
			TH_CHECK(rc == 0 && !strcmp(out, cases[i].out),
				 "'%s' -> '%s' (%s)", cases[i].in, out, why);
		else
			TH_CHECK(rc == -1 && !strcmp(why, cases[i].why) &&
					 !out[0],
				 "'%s': rc %d why '%s'", cases[i].in, rc, why);
	}
	rc = xlcfg_canonical_resource("file:/a/b/c", 0, out, 8, why,
				      sizeof(why));
	TH_CHECK(rc == -1 && !strcmp(why, "file: resource name too long"),
		 "small buffer: %s", why);
	rc = xlcfg_canonical_resource(NULL, 0, out, sizeof(out), NULL, 0);
	TH_CHECK(rc == -1, "NULL");
}

/* With XLCFG_CANON_RESOLVE a symlink is its target, so one disk cannot
 * carry two names (and dodge its label). */
static void test_resolve(void)
{
	char dir[] = "/tmp/hvsec-canon-XXXXXX", real[PATH_MAX];
	char img[PATH_MAX + 16], link[PATH_MAX + 16], in[PATH_MAX + 32];
	char want[PATH_MAX + 32], out[PATH_MAX + 32], why[PATH_MAX + 64];
	FILE *f;
	int rc;

	if (!TH_CHECK(mkdtemp(dir) && realpath(dir, real), "temp dir"))
		return;
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(link, sizeof(link), "%s/alias.img", dir);
	f = fopen(img, "w");
	if (f)
		fclose(f);
	TH_CHECK(f && symlink(img, link) == 0, "set up");
	snprintf(in, sizeof(in), "file:%s", link);
	snprintf(want, sizeof(want), "file:%s/disk.img", real);
	rc = xlcfg_canonical_resource(in, XLCFG_CANON_RESOLVE, out, sizeof(out),
				      why, sizeof(why));
	TH_CHECK(rc == 0 && !strcmp(out, want), "symlink resolved: %s (%s)",
		 out, why);
	rc = xlcfg_canonical_resource(in, 0, out, sizeof(out), why,
				      sizeof(why));
	TH_CHECK(rc == 0 && !strcmp(out, in), "lexical keeps the link: %s",
		 out);
	snprintf(in, sizeof(in), "file:%s/missing.img", dir);
	rc = xlcfg_canonical_resource(in, XLCFG_CANON_RESOLVE, out, sizeof(out),
				      why, sizeof(why));
	TH_CHECK(rc == -1 && strstr(why, "No such file or directory"),
		 "missing: %s", why);
	unlink(link);
	unlink(img);
	rmdir(dir);
}

int main(void)
{
	test_full();
	test_good_table();
	test_disks();
	test_bad_devices();
	test_bad_table();
	test_hostile();
	test_file();
	test_canonical();
	test_resolve();
	return th_done();
}
