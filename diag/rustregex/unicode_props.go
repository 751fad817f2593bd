// Code generated for kubectl-profiles; DO NOT EDIT.

package rustregex

// Unicode property names accepted by the Rust regex crate v1.13.1 (regex-syntax
// 0.8.11, Unicode 16.0), stored in the crate's normalised form (see normalizePropName).
//
// How this table was made: every property and value alias from the Unicode 15.0
// PropertyAliases.txt and PropertyValueAliases.txt (Debian package unicode-data),
// plus the Unicode 16.0 additions, was compiled as \p{NAME} and \p{NAME=VALUE} by
// the real regex 1.13.1 crate; only the names it accepted are listed. Unicode data
// is a public standard; no code or table was copied from the crate.

var namedProps = map[string]bool{
	"adlam": true, "adlm": true, "aghb": true, "ahex": true, "ahom": true, "alpha": true,
	"alphabetic": true, "anatolianhieroglyphs": true, "any": true, "arab": true, "arabic": true,
	"armenian": true, "armi": true, "armn": true, "ascii": true, "asciihexdigit": true,
	"assigned": true, "avestan": true, "avst": true, "bali": true, "balinese": true, "bamu": true,
	"bamum": true, "bass": true, "bassavah": true, "batak": true, "batk": true, "beng": true,
	"bengali": true, "bhaiksuki": true, "bhks": true, "bidic": true, "bidicontrol": true,
	"bidim": true, "bidimirrored": true, "bopo": true, "bopomofo": true, "brah": true, "brahmi": true,
	"brai": true, "braille": true, "bugi": true, "buginese": true, "buhd": true, "buhid": true,
	"c": true, "cakm": true, "canadianaboriginal": true, "cans": true, "cari": true, "carian": true,
	"cased": true, "casedletter": true, "caseignorable": true, "caucasianalbanian": true, "cc": true,
	"cf": true, "chakma": true, "cham": true, "changeswhencasefolded": true,
	"changeswhencasemapped": true, "changeswhenlowercased": true, "changeswhentitlecased": true,
	"changeswhenuppercased": true, "cher": true, "cherokee": true, "chorasmian": true, "chrs": true,
	"ci": true, "closepunctuation": true, "cn": true, "cntrl": true, "co": true,
	"combiningmark": true, "common": true, "connectorpunctuation": true, "control": true,
	"copt": true, "coptic": true, "cpmn": true, "cprt": true, "cuneiform": true,
	"currencysymbol": true, "cwcf": true, "cwcm": true, "cwl": true, "cwt": true, "cwu": true,
	"cypriot": true, "cyprominoan": true, "cyrillic": true, "cyrl": true, "dash": true,
	"dashpunctuation": true, "decimalnumber": true, "defaultignorablecodepoint": true, "dep": true,
	"deprecated": true, "deseret": true, "deva": true, "devanagari": true, "di": true, "dia": true,
	"diacritic": true, "diak": true, "digit": true, "divesakuru": true, "dogr": true, "dogra": true,
	"dsrt": true, "dupl": true, "duployan": true, "ebase": true, "ecomp": true, "egyp": true,
	"egyptianhieroglyphs": true, "elba": true, "elbasan": true, "elym": true, "elymaic": true,
	"emod": true, "emoji": true, "emojicomponent": true, "emojimodifier": true,
	"emojimodifierbase": true, "emojipresentation": true, "enclosingmark": true, "epres": true,
	"ethi": true, "ethiopic": true, "ext": true, "extendedpictographic": true, "extender": true,
	"extpict": true, "finalpunctuation": true, "format": true, "gara": true, "garay": true,
	"geor": true, "georgian": true, "glag": true, "glagolitic": true, "gong": true, "gonm": true,
	"goth": true, "gothic": true, "gran": true, "grantha": true, "graphemebase": true,
	"graphemeextend": true, "graphemelink": true, "grbase": true, "greek": true, "grek": true,
	"grext": true, "grlink": true, "gujarati": true, "gujr": true, "gukh": true, "gunjalagondi": true,
	"gurmukhi": true, "guru": true, "gurungkhema": true, "han": true, "hang": true, "hangul": true,
	"hani": true, "hanifirohingya": true, "hano": true, "hanunoo": true, "hatr": true, "hatran": true,
	"hebr": true, "hebrew": true, "hex": true, "hexdigit": true, "hira": true, "hiragana": true,
	"hluw": true, "hmng": true, "hmnp": true, "hung": true, "hyphen": true, "idc": true,
	"idcompatmathcontinue": true, "idcompatmathstart": true, "idcontinue": true, "ideo": true,
	"ideographic": true, "ids": true, "idsb": true, "idsbinaryoperator": true, "idst": true,
	"idstart": true, "idstrinaryoperator": true, "idsu": true, "idsunaryoperator": true,
	"imperialaramaic": true, "inherited": true, "initialpunctuation": true,
	"inscriptionalpahlavi": true, "inscriptionalparthian": true, "ital": true, "java": true,
	"javanese": true, "joinc": true, "joincontrol": true, "kaithi": true, "kali": true, "kana": true,
	"kannada": true, "katakana": true, "kawi": true, "kayahli": true, "khar": true,
	"kharoshthi": true, "khitansmallscript": true, "khmer": true, "khmr": true, "khoj": true,
	"khojki": true, "khudawadi": true, "kiratrai": true, "kits": true, "knda": true, "krai": true,
	"kthi": true, "l": true, "lana": true, "lao": true, "laoo": true, "latin": true, "latn": true,
	"lc": true, "lepc": true, "lepcha": true, "letter": true, "letternumber": true, "limb": true,
	"limbu": true, "lina": true, "linb": true, "lineara": true, "linearb": true,
	"lineseparator": true, "lisu": true, "ll": true, "lm": true, "lo": true, "loe": true,
	"logicalorderexception": true, "lower": true, "lowercase": true, "lowercaseletter": true,
	"lt": true, "lu": true, "lyci": true, "lycian": true, "lydi": true, "lydian": true, "m": true,
	"mahajani": true, "mahj": true, "maka": true, "makasar": true, "malayalam": true, "mand": true,
	"mandaic": true, "mani": true, "manichaean": true, "marc": true, "marchen": true, "mark": true,
	"masaramgondi": true, "math": true, "mathsymbol": true, "mc": true, "mcm": true, "me": true,
	"medefaidrin": true, "medf": true, "meeteimayek": true, "mend": true, "mendekikakui": true,
	"merc": true, "mero": true, "meroiticcursive": true, "meroitichieroglyphs": true, "miao": true,
	"mlym": true, "mn": true, "modi": true, "modifiercombiningmark": true, "modifierletter": true,
	"modifiersymbol": true, "mong": true, "mongolian": true, "mro": true, "mroo": true, "mtei": true,
	"mult": true, "multani": true, "myanmar": true, "mymr": true, "n": true, "nabataean": true,
	"nagm": true, "nagmundari": true, "nand": true, "nandinagari": true, "narb": true, "nbat": true,
	"nchar": true, "nd": true, "newa": true, "newtailue": true, "nko": true, "nkoo": true, "nl": true,
	"no": true, "noncharactercodepoint": true, "nonspacingmark": true, "nshu": true, "number": true,
	"nushu": true, "nyiakengpuachuehmong": true, "oalpha": true, "odi": true, "ogam": true,
	"ogham": true, "ogrext": true, "oidc": true, "oids": true, "olchiki": true, "olck": true,
	"oldhungarian": true, "olditalic": true, "oldnortharabian": true, "oldpermic": true,
	"oldpersian": true, "oldsogdian": true, "oldsoutharabian": true, "oldturkic": true,
	"olduyghur": true, "olonal": true, "olower": true, "omath": true, "onao": true,
	"openpunctuation": true, "oriya": true, "orkh": true, "orya": true, "osage": true, "osge": true,
	"osma": true, "osmanya": true, "other": true, "otheralphabetic": true,
	"otherdefaultignorablecodepoint": true, "othergraphemeextend": true, "otheridcontinue": true,
	"otheridstart": true, "otherletter": true, "otherlowercase": true, "othermath": true,
	"othernumber": true, "otherpunctuation": true, "othersymbol": true, "otheruppercase": true,
	"ougr": true, "oupper": true, "p": true, "pahawhhmong": true, "palm": true, "palmyrene": true,
	"paragraphseparator": true, "patsyn": true, "patternsyntax": true, "patternwhitespace": true,
	"patws": true, "pauc": true, "paucinhau": true, "pc": true, "pcm": true, "pd": true, "pe": true,
	"perm": true, "pf": true, "phag": true, "phagspa": true, "phli": true, "phlp": true, "phnx": true,
	"phoenician": true, "pi": true, "plrd": true, "po": true, "prependedconcatenationmark": true,
	"privateuse": true, "prti": true, "ps": true, "psalterpahlavi": true, "punct": true,
	"punctuation": true, "qaac": true, "qaai": true, "qmark": true, "quotationmark": true,
	"radical": true, "regionalindicator": true, "rejang": true, "ri": true, "rjng": true,
	"rohg": true, "runic": true, "runr": true, "s": true, "samaritan": true, "samr": true,
	"sarb": true, "saur": true, "saurashtra": true, "sc": true, "sd": true, "sentenceterminal": true,
	"separator": true, "sgnw": true, "sharada": true, "shavian": true, "shaw": true, "shrd": true,
	"sidd": true, "siddham": true, "signwriting": true, "sind": true, "sinh": true, "sinhala": true,
	"sk": true, "sm": true, "so": true, "softdotted": true, "sogd": true, "sogdian": true,
	"sogo": true, "sora": true, "sorasompeng": true, "soyo": true, "soyombo": true, "space": true,
	"spaceseparator": true, "spacingmark": true, "sterm": true, "sund": true, "sundanese": true,
	"sunu": true, "sunuwar": true, "sylo": true, "sylotinagri": true, "symbol": true, "syrc": true,
	"syriac": true, "tagalog": true, "tagb": true, "tagbanwa": true, "taile": true, "taitham": true,
	"taiviet": true, "takr": true, "takri": true, "tale": true, "talu": true, "tamil": true,
	"taml": true, "tang": true, "tangsa": true, "tangut": true, "tavt": true, "telu": true,
	"telugu": true, "term": true, "terminalpunctuation": true, "tfng": true, "tglg": true,
	"thaa": true, "thaana": true, "thai": true, "tibetan": true, "tibt": true, "tifinagh": true,
	"tirh": true, "tirhuta": true, "titlecaseletter": true, "tnsa": true, "todhri": true,
	"todr": true, "toto": true, "tulutigalari": true, "tutg": true, "ugar": true, "ugaritic": true,
	"uideo": true, "unassigned": true, "unifiedideograph": true, "upper": true, "uppercase": true,
	"uppercaseletter": true, "vai": true, "vaii": true, "variationselector": true, "vith": true,
	"vithkuqi": true, "vs": true, "wancho": true, "wara": true, "warangciti": true, "wcho": true,
	"whitespace": true, "wspace": true, "xidc": true, "xidcontinue": true, "xids": true,
	"xidstart": true, "xpeo": true, "xsux": true, "yezi": true, "yezidi": true, "yi": true,
	"yiii": true, "z": true, "zanabazarsquare": true, "zanb": true, "zinh": true, "zl": true,
	"zp": true, "zs": true, "zyyy": true,
}

// propValues maps a normalised property name (the part before '=' or ':')
// to the normalised values accepted for it.
var propValues = map[string]map[string]bool{}

func init() {
	vals0 := setOf("1.1", "10.0", "11.0", "12.0", "12.1", "13.0", "14.0", "15.0", "15.1", "16.0", "2.0", "2.1", "3.0", "3.1", "3.2", "4.0", "4.1", "5.0", "5.1", "5.2", "6.0", "6.1", "6.2", "6.3", "7.0", "8.0", "9.0", "v100", "v11", "v110", "v120", "v121", "v130", "v140", "v150", "v151", "v160", "v20", "v21", "v30", "v31", "v32", "v40", "v41", "v50", "v51", "v52", "v60", "v61", "v62", "v63", "v70", "v80", "v90")
	propValues["age"] = vals0
	vals1 := setOf("c", "casedletter", "cc", "cf", "closepunctuation", "cn", "cntrl", "co", "combiningmark", "connectorpunctuation", "control", "currencysymbol", "dashpunctuation", "decimalnumber", "digit", "enclosingmark", "finalpunctuation", "format", "initialpunctuation", "l", "lc", "letter", "letternumber", "lineseparator", "ll", "lm", "lo", "lowercaseletter", "lt", "lu", "m", "mark", "mathsymbol", "mc", "me", "mn", "modifierletter", "modifiersymbol", "n", "nd", "nl", "no", "nonspacingmark", "number", "openpunctuation", "other", "otherletter", "othernumber", "otherpunctuation", "othersymbol", "p", "paragraphseparator", "pc", "pd", "pe", "pf", "pi", "po", "privateuse", "ps", "punct", "punctuation", "s", "sc", "separator", "sk", "sm", "so", "spaceseparator", "spacingmark", "symbol", "titlecaseletter", "unassigned", "uppercaseletter", "z", "zl", "zp", "zs")
	propValues["gc"] = vals1
	propValues["generalcategory"] = vals1
	vals2 := setOf("cn", "control", "cr", "ex", "extend", "l", "lf", "lv", "lvt", "pp", "prepend", "regionalindicator", "ri", "sm", "spacingmark", "t", "v", "zwj")
	propValues["gcb"] = vals2
	propValues["graphemeclusterbreak"] = vals2
	vals3 := setOf("at", "aterm", "cl", "close", "cr", "ex", "extend", "fo", "format", "le", "lf", "lo", "lower", "nu", "numeric", "oletter", "sc", "scontinue", "se", "sep", "sp", "st", "sterm", "up", "upper")
	propValues["sb"] = vals3
	propValues["sentencebreak"] = vals3
	vals4 := setOf("adlam", "adlm", "aghb", "ahom", "anatolianhieroglyphs", "arab", "arabic", "armenian", "armi", "armn", "avestan", "avst", "bali", "balinese", "bamu", "bamum", "bass", "bassavah", "batak", "batk", "beng", "bengali", "bhaiksuki", "bhks", "bopo", "bopomofo", "brah", "brahmi", "brai", "braille", "bugi", "buginese", "buhd", "buhid", "cakm", "canadianaboriginal", "cans", "cari", "carian", "caucasianalbanian", "chakma", "cham", "cher", "cherokee", "chorasmian", "chrs", "common", "copt", "coptic", "cpmn", "cprt", "cuneiform", "cypriot", "cyprominoan", "cyrillic", "cyrl", "deseret", "deva", "devanagari", "diak", "divesakuru", "dogr", "dogra", "dsrt", "dupl", "duployan", "egyp", "egyptianhieroglyphs", "elba", "elbasan", "elym", "elymaic", "ethi", "ethiopic", "gara", "garay", "geor", "georgian", "glag", "glagolitic", "gong", "gonm", "goth", "gothic", "gran", "grantha", "greek", "grek", "gujarati", "gujr", "gukh", "gunjalagondi", "gurmukhi", "guru", "gurungkhema", "han", "hang", "hangul", "hani", "hanifirohingya", "hano", "hanunoo", "hatr", "hatran", "hebr", "hebrew", "hira", "hiragana", "hluw", "hmng", "hmnp", "hung", "imperialaramaic", "inherited", "inscriptionalpahlavi", "inscriptionalparthian", "ital", "java", "javanese", "kaithi", "kali", "kana", "kannada", "katakana", "kawi", "kayahli", "khar", "kharoshthi", "khitansmallscript", "khmer", "khmr", "khoj", "khojki", "khudawadi", "kiratrai", "kits", "knda", "krai", "kthi", "lana", "lao", "laoo", "latin", "latn", "lepc", "lepcha", "limb", "limbu", "lina", "linb", "lineara", "linearb", "lisu", "lyci", "lycian", "lydi", "lydian", "mahajani", "mahj", "maka", "makasar", "malayalam", "mand", "mandaic", "mani", "manichaean", "marc", "marchen", "masaramgondi", "medefaidrin", "medf", "meeteimayek", "mend", "mendekikakui", "merc", "mero", "meroiticcursive", "meroitichieroglyphs", "miao", "mlym", "modi", "mong", "mongolian", "mro", "mroo", "mtei", "mult", "multani", "myanmar", "mymr", "nabataean", "nagm", "nagmundari", "nand", "nandinagari", "narb", "nbat", "newa", "newtailue", "nko", "nkoo", "nshu", "nushu", "nyiakengpuachuehmong", "ogam", "ogham", "olchiki", "olck", "oldhungarian", "olditalic", "oldnortharabian", "oldpermic", "oldpersian", "oldsogdian", "oldsoutharabian", "oldturkic", "olduyghur", "olonal", "onao", "oriya", "orkh", "orya", "osage", "osge", "osma", "osmanya", "ougr", "pahawhhmong", "palm", "palmyrene", "pauc", "paucinhau", "perm", "phag", "phagspa", "phli", "phlp", "phnx", "phoenician", "plrd", "prti", "psalterpahlavi", "qaac", "qaai", "rejang", "rjng", "rohg", "runic", "runr", "samaritan", "samr", "sarb", "saur", "saurashtra", "sgnw", "sharada", "shavian", "shaw", "shrd", "sidd", "siddham", "signwriting", "sind", "sinh", "sinhala", "sogd", "sogdian", "sogo", "sora", "sorasompeng", "soyo", "soyombo", "sund", "sundanese", "sunu", "sunuwar", "sylo", "sylotinagri", "syrc", "syriac", "tagalog", "tagb", "tagbanwa", "taile", "taitham", "taiviet", "takr", "takri", "tale", "talu", "tamil", "taml", "tang", "tangsa", "tangut", "tavt", "telu", "telugu", "tfng", "tglg", "thaa", "thaana", "thai", "tibetan", "tibt", "tifinagh", "tirh", "tirhuta", "tnsa", "todhri", "todr", "toto", "tulutigalari", "tutg", "ugar", "ugaritic", "vai", "vaii", "vith", "vithkuqi", "wancho", "wara", "warangciti", "wcho", "xpeo", "xsux", "yezi", "yezidi", "yi", "yiii", "zanabazarsquare", "zanb", "zinh", "zyyy")
	propValues["sc"] = vals4
	propValues["script"] = vals4
	propValues["scriptextensions"] = vals4
	propValues["scx"] = vals4
	vals5 := setOf("aletter", "cr", "doublequote", "dq", "ex", "extend", "extendnumlet", "fo", "format", "hebrewletter", "hl", "ka", "katakana", "le", "lf", "mb", "midletter", "midnum", "midnumlet", "ml", "mn", "newline", "nl", "nu", "numeric", "regionalindicator", "ri", "singlequote", "sq", "wsegspace", "zwj")
	propValues["wb"] = vals5
	propValues["wordbreak"] = vals5
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
