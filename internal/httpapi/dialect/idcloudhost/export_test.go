package idcloudhost

// PythonLiteralsToJSON lets the external tests send the seed's bodies the
// way the validator reads them.
var PythonLiteralsToJSON = pythonLiteralsToJSON

// TestdataDir is testdata as an absolute path (see testdataDir).
var TestdataDir = testdataDir
