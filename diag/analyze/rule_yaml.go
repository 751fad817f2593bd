package analyze

// A document kubectl cannot parse.
var _ = register(Analyzer{
	Name:  "yaml",
	Codes: []string{CodeYAMLInvalid},
	Needs: []Scope{Unparsed},
	Run: func(f *Facts, e *Emitter) {
		e.At(CodeYAMLInvalid, nil, "%v: fix the syntax (kubectl cannot apply this file)", f.Doc.Err)
	},
})
